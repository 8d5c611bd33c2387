# Call frame annotations in the style of 2.6.32's arch/x86/kernel/entry_32.S
# (written for this project).  The kernel's CFI_* names are cpp macros of
# asm/dwarf2.h; with no cpp here they are assembler macros of the same names
# and meaning, and pushl_cfi/popl_cfi/movl_cfi are dwarf2.h's 32-bit helpers.
	.macro CFI_STARTPROC simple
	.cfi_startproc \simple
	.endm
	.macro CFI_ENDPROC
	.cfi_endproc
	.endm
	.macro CFI_DEF_CFA reg, offset
	.cfi_def_cfa \reg, \offset
	.endm
	.macro CFI_DEF_CFA_REGISTER reg
	.cfi_def_cfa_register \reg
	.endm
	.macro CFI_DEF_CFA_OFFSET offset
	.cfi_def_cfa_offset \offset
	.endm
	.macro CFI_ADJUST_CFA_OFFSET offset
	.cfi_adjust_cfa_offset \offset
	.endm
	.macro CFI_OFFSET reg, offset
	.cfi_offset \reg, \offset
	.endm
	.macro CFI_REL_OFFSET reg, offset
	.cfi_rel_offset \reg, \offset
	.endm
	.macro CFI_REGISTER reg1, reg2
	.cfi_register \reg1, \reg2
	.endm
	.macro CFI_RESTORE reg
	.cfi_restore \reg
	.endm
	.macro CFI_REMEMBER_STATE
	.cfi_remember_state
	.endm
	.macro CFI_RESTORE_STATE
	.cfi_restore_state
	.endm
	.macro CFI_UNDEFINED reg
	.cfi_undefined \reg
	.endm
	.macro CFI_SIGNAL_FRAME
	.cfi_signal_frame
	.endm

	.macro pushl_cfi reg
	pushl \reg
	CFI_ADJUST_CFA_OFFSET 4
	.endm
	.macro popl_cfi reg
	popl \reg
	CFI_ADJUST_CFA_OFFSET -4
	.endm
	.macro movl_cfi reg, offset=0
	movl %\reg, \offset(%esp)
	CFI_REL_OFFSET \reg, \offset
	.endm

	.equ PT_EBX, 0
	.equ PT_OLDESP, 0x3c
	.equ __KERNEL_DS, 0x68

# The frame of an interrupt entry: eip, cs and eflags pushed by the CPU.
	.macro RING0_INT_FRAME
	CFI_STARTPROC simple
	CFI_SIGNAL_FRAME
	CFI_DEF_CFA esp, 3*4
	/*CFI_OFFSET cs, -2*4;*/
	CFI_OFFSET eip, -3*4
	.endm

	.macro SAVE_ALL
	cld
	pushl_cfi %gs
	pushl_cfi %fs
	pushl_cfi %es
	pushl_cfi %ds
	pushl %eax
	CFI_ADJUST_CFA_OFFSET 4
	CFI_REL_OFFSET eax, 0
	pushl %ebp
	CFI_ADJUST_CFA_OFFSET 4
	CFI_REL_OFFSET ebp, 0
	pushl %edi
	CFI_ADJUST_CFA_OFFSET 4
	CFI_REL_OFFSET edi, 0
	pushl %esi
	CFI_ADJUST_CFA_OFFSET 4
	CFI_REL_OFFSET esi, 0
	pushl %edx
	CFI_ADJUST_CFA_OFFSET 4
	CFI_REL_OFFSET edx, 0
	pushl %ecx
	CFI_ADJUST_CFA_OFFSET 4
	CFI_REL_OFFSET ecx, 0
	pushl %ebx
	CFI_ADJUST_CFA_OFFSET 4
	CFI_REL_OFFSET ebx, 0
	movl $(__KERNEL_DS), %edx
	movl %edx, %ds
	movl %edx, %es
	.endm

	.macro RESTORE_INT_REGS
	popl_cfi %ebx
	CFI_RESTORE ebx
	popl_cfi %ecx
	CFI_RESTORE ecx
	popl_cfi %edx
	CFI_RESTORE edx
	popl_cfi %esi
	CFI_RESTORE esi
	popl_cfi %edi
	CFI_RESTORE edi
	popl_cfi %ebp
	CFI_RESTORE ebp
	popl_cfi %eax
	CFI_RESTORE eax
	.endm

	.text
	.globl ret_from_fork
ret_from_fork:
	CFI_STARTPROC
	pushl %eax
	CFI_ADJUST_CFA_OFFSET 4
	call schedule_tail
	popl %eax
	CFI_ADJUST_CFA_OFFSET -4
	pushl $0x0202
	CFI_ADJUST_CFA_OFFSET 4
	popfl
	CFI_ADJUST_CFA_OFFSET -4
	jmp syscall_exit
	CFI_ENDPROC

	.p2align 4
	.globl common_interrupt
common_interrupt:
	RING0_INT_FRAME
	pushl $-256
	CFI_ADJUST_CFA_OFFSET 4
	SAVE_ALL
	movl %esp, %eax
	call do_IRQ
	CFI_REMEMBER_STATE
	RESTORE_INT_REGS
	addl $4, %esp
	CFI_ADJUST_CFA_OFFSET -4
	iret
	CFI_RESTORE_STATE
	movl PT_OLDESP(%esp), %eax
	CFI_REGISTER esp, eax
	movl_cfi ebx, PT_EBX
	CFI_DEF_CFA_REGISTER ebp
	CFI_DEF_CFA_OFFSET 8
	CFI_UNDEFINED eip
	ret
	CFI_ENDPROC

# kernel_thread_helper: the outermost frame of a kernel thread.
	.globl kernel_thread_helper
kernel_thread_helper:
	CFI_STARTPROC
	pushl $0
	CFI_ADJUST_CFA_OFFSET 4
	movl %edx, %eax
	call *%ebx
	pushl %eax
	CFI_ADJUST_CFA_OFFSET 4
	call do_exit
	ud2
	CFI_ENDPROC

schedule_tail:
syscall_exit:
do_IRQ:
do_exit:
	ret
