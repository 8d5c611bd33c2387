/*
 * Entry code of the emulated kernel, written after the order of operations
 * of arch/x86/kernel/entry_32.S (Linux 2.6.32) and the switch_to() macro of
 * arch/x86/include/asm/system.h.
 *
 * Every symbol in capitals (PT_*, TI_*, TASK_*, _TIF_*) comes from
 * kernel_model/asm_offsets.py; schedule, schedule_tail and do_exit are
 * Python-implemented functions reached through their thunks.
 * The stack that ret_from_fork pops is laid out by copy_thread in
 * kernel_model/process_32.py.
 *
 * Call frame information, as 2.6.32's entry_32.S carries it (CFI_STARTPROC,
 * CFI_ADJUST_CFA_OFFSET, ...), goes to .debug_frame: gdb unwinds through this
 * code with it (kthreadd_emu/for_gdb/kernel_elf.py).  The kernel's CFI_* are cpp macros
 * of asm/dwarf2.h; with no cpp here they are assembler macros of the same
 * names and meaning.
 */
	.cfi_sections .debug_frame
	.macro CFI_STARTPROC
	.cfi_startproc
	.endm
	.macro CFI_ENDPROC
	.cfi_endproc
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
	.macro CFI_RESTORE reg
	.cfi_restore \reg
	.endm
	.macro CFI_UNDEFINED reg
	.cfi_undefined \reg
	.endm
	.macro CFI_REMEMBER_STATE
	.cfi_remember_state
	.endm
	.macro CFI_RESTORE_STATE
	.cfi_restore_state
	.endm

/*
 * A pt_regs frame (2.6.32's RING0_PTREGS_FRAME, at the start of pt_regs):
 * the registers are in their pt_regs slots.  Deviation: the return address
 * is undefined (the walk ends here), where the kernel's CFI has the iret's
 * ip: gdb would name that address by the function before it, as after a call.
 */
	.macro RING0_PTREGS_FRAME
	.cfi_startproc simple
	.cfi_def_cfa esp, PT_OLDESP
	.cfi_undefined eip
	.cfi_offset ebx, PT_EBX - PT_OLDESP
	.cfi_offset ecx, PT_ECX - PT_OLDESP
	.cfi_offset edx, PT_EDX - PT_OLDESP
	.cfi_offset esi, PT_ESI - PT_OLDESP
	.cfi_offset edi, PT_EDI - PT_OLDESP
	.cfi_offset ebp, PT_EBP - PT_OLDESP
	.cfi_offset eax, PT_EAX - PT_OLDESP
	.endm

/*
 * switch_to(prev, next): save prev's flags, frame pointer, stack pointer and
 * resume address, take next's stack, and "return" to next->thread.ip through
 * __switch_to.  In: %eax = prev, %edx = next.  Out (when prev runs again):
 * %eax = the task this CPU switched away from (last).
 * The kernel inlines this into schedule(); here schedule() is Python and
 * calls it as a function, hence the final ret.
 */
	.globl switch_to
switch_to:
	CFI_STARTPROC
	pushfl
	CFI_ADJUST_CFA_OFFSET 4
	pushl %ebp
	CFI_ADJUST_CFA_OFFSET 4
	CFI_OFFSET ebp, -12
	movl %esp, TASK_thread_sp(%eax)
	/* next's stack from here: the frame is the one next left (as at 1:) */
	movl TASK_thread_sp(%edx), %esp
	movl $1f, TASK_thread_ip(%eax)
	pushl TASK_thread_ip(%edx)
	CFI_ADJUST_CFA_OFFSET 4
	/* __switch_canary: next's canary becomes this CPU's %gs:20 */
	movl TASK_stack_canary(%edx), %ebx
	movl %ebx, %fs:per_cpu__stack_canary+STACK_CANARY_OFFSET
	jmp __switch_to
	/* where a sleeping task resumes: its flags, its ebp and its return address */
	CFI_DEF_CFA_OFFSET 12
1:	popl %ebp
	CFI_ADJUST_CFA_OFFSET -4
	CFI_RESTORE ebp
	popfl
	CFI_ADJUST_CFA_OFFSET -4
	ret
	CFI_ENDPROC
/* end switch_to */

/*
 * __switch_to(prev_p, next_p): the per-CPU half of the switch.
 * In: %eax = prev, %edx = next (regparm).  Returns prev in %eax, and its
 * ret pops next->thread.ip: ret_from_fork for a task that never ran.
 */
	.globl __switch_to
__switch_to:
	CFI_STARTPROC
	/* load_sp0(tss, next): where an interrupt from user mode would land */
	movl TASK_thread_sp0(%edx), %ecx
	movl %ecx, %fs:per_cpu__init_tss+TSS_sp0
	/* percpu_write(current_task, next_p), last, as the kernel does */
	movl %edx, %fs:per_cpu__current_task
	ret
	CFI_ENDPROC
/* end __switch_to */

/*
 * ret_from_fork: the first instruction of every new task.
 * In: %eax = prev (from __switch_to), %esp = thread.sp = the child's pt_regs.
 */
	.globl ret_from_fork
ret_from_fork:
	RING0_PTREGS_FRAME
	pushl %eax
	CFI_ADJUST_CFA_OFFSET 4
	call schedule_tail
	/* GET_THREAD_INFO(%ebp) */
	movl $-THREAD_SIZE, %ebp
	andl %esp, %ebp
	popl %eax
	CFI_ADJUST_CFA_OFFSET -4
	/* reset kernel eflags */
	pushl $0x0202
	CFI_ADJUST_CFA_OFFSET 4
	popfl
	CFI_ADJUST_CFA_OFFSET -4
	jmp syscall_exit
	CFI_ENDPROC
/* end ret_from_fork */

/*
 * syscall_exit -> restore_all: the return path shared with system calls.
 * In: %ebp = thread_info, %esp = pt_regs.
 */
	.globl syscall_exit
syscall_exit:
	RING0_PTREGS_FRAME
	cli
	movl TI_flags(%ebp), %ecx
	testl $_TIF_ALLWORK_MASK, %ecx
	jne syscall_exit_work
	.globl restore_all
restore_all:
	/* the LDT-SS check: PT_OLDSS is junk for a kernel frame, the RPL test fails */
	movl PT_EFLAGS(%esp), %eax
	movb PT_OLDSS(%esp), %ah
	movb PT_CS(%esp), %al
	andl $(X86_EFLAGS_VM | (SEGMENT_TI_MASK << 8) | SEGMENT_RPL_MASK), %eax
	cmpl $((SEGMENT_LDT << 8) | USER_RPL), %eax
	CFI_REMEMBER_STATE
	je ldt_ss
restore_nocheck:
	/* RESTORE_REGS 4: the 4 skips orig_ax */
	popl %ebx
	CFI_ADJUST_CFA_OFFSET -4
	CFI_RESTORE ebx
	popl %ecx
	CFI_ADJUST_CFA_OFFSET -4
	CFI_RESTORE ecx
	popl %edx
	CFI_ADJUST_CFA_OFFSET -4
	CFI_RESTORE edx
	popl %esi
	CFI_ADJUST_CFA_OFFSET -4
	CFI_RESTORE esi
	popl %edi
	CFI_ADJUST_CFA_OFFSET -4
	CFI_RESTORE edi
	popl %ebp
	CFI_ADJUST_CFA_OFFSET -4
	CFI_RESTORE ebp
	popl %eax
	CFI_ADJUST_CFA_OFFSET -4
	CFI_RESTORE eax
	popl %ds
	CFI_ADJUST_CFA_OFFSET -4
	popl %es
	CFI_ADJUST_CFA_OFFSET -4
	popl %fs
	CFI_ADJUST_CFA_OFFSET -4
	popl %gs
	CFI_ADJUST_CFA_OFFSET -4
	addl $4, %esp
	CFI_ADJUST_CFA_OFFSET -4
irq_return:
	iret
	CFI_RESTORE_STATE
/* end restore_all */

/*
 * Work before returning: only rescheduling is modelled (no syscall tracing,
 * no signals for kernel-mode frames, which do_notify_resume ignores).
 */
syscall_exit_work:
work_pending:
	testb $_TIF_NEED_RESCHED, %cl
	jz restore_all
	call schedule
	cli
	movl TI_flags(%ebp), %ecx
	andl $_TIF_WORK_MASK, %ecx
	jne work_pending
	jmp restore_all

/* ldt_ss: the espfix path for a user stack in the LDT; kernel threads never take it */
ldt_ss:
	ud2
	CFI_ENDPROC
/* end work_pending */

/*
 * kernel_thread_helper: where a kernel thread's iret lands.
 * In: %ebx = fn, %edx = arg.  Calls fn(arg) (arg in %eax and on the stack),
 * then do_exit(fn's result).  The pushl $0 is a fake return address that
 * ends the unwinder's walk.  Deviation: the CFI says so, from the first
 * instruction (the return address is undefined: gdb's outermost frame), where
 * 2.6.32's starts after the pushl and leaves the 0 for the kernel's own
 * unwinder to stop at.
 */
	.globl kernel_thread_helper
kernel_thread_helper:
	CFI_STARTPROC
	CFI_UNDEFINED eip
	pushl $0
	CFI_ADJUST_CFA_OFFSET 4
	movl %edx, %eax
	push %edx
	CFI_ADJUST_CFA_OFFSET 4
	call *%ebx
	push %eax
	CFI_ADJUST_CFA_OFFSET 4
	call do_exit
	/* padding for call trace */
	ud2
	CFI_ENDPROC
/* end kernel_thread_helper */

/*
 * _spin_lock(lock) / _spin_unlock(lock): the lock word is 0 when free.
 * One atomic xchg takes it; waiters spin reading it (pause) before retrying.
 * In: %eax = lock.  (2.6.32 uses ticket locks; a test-and-set lock has the
 * same contract for our purposes.)
 */
	.globl _spin_lock
_spin_lock:
	CFI_STARTPROC
	movl $1, %edx
1:	xchgl %edx, (%eax)
	testl %edx, %edx
	jz 3f
2:	pause
	cmpl $0, (%eax)
	jne 2b
	movl $1, %edx
	jmp 1b
3:	ret
	CFI_ENDPROC
/* end _spin_lock */

	.globl _spin_unlock
_spin_unlock:
	CFI_STARTPROC
	movl $0, (%eax)
	ret
	CFI_ENDPROC
/* end _spin_unlock */

/* raw_smp_processor_id(): this CPU's number, read through the per-CPU segment. */
	.globl raw_smp_processor_id
raw_smp_processor_id:
	CFI_STARTPROC
	movl %fs:per_cpu__cpu_number, %eax
	ret
	CFI_ENDPROC
/* end raw_smp_processor_id */
