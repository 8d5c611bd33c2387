/*
 * The entry path a new task takes, seen on the CPU (arch/x86/kernel/entry_32.S,
 * 2.6.32): ret_from_fork resets the kernel eflags to 0x202, syscall_exit works
 * with interrupts off from its cli to the iret, GET_THREAD_INFO gives %ebp,
 * and restore_all sends a user frame with an LDT stack segment to ldt_ss.
 */

/* "pushl $0x0202; popfl": whatever eflags switch_to left, the jmp to
 * syscall_exit happens with exactly IF and the always-one bit. */
#@ test ret_from_fork_resets_eflags_to_0x202
#@ run kernel_thread entry
#@ at syscall_exit: eflags == 0x202
#@ at syscall_exit: (eflags & X86_EFLAGS_IF) == X86_EFLAGS_IF

/* GET_THREAD_INFO(%ebp): the thread_info at the bottom of the 8 KiB stack. */
#@ test ebp_is_thread_info_in_syscall_exit
#@ run kernel_thread entry
#@ at syscall_exit: ebp == stack
#@ at syscall_exit: [ebp + TI_task] == current

/* The cli in syscall_exit: the flags test and RESTORE_REGS run with IF clear;
 * the iret then loads the frame's flags (0x286) for the thread function. */
#@ test interrupts_off_from_cli_to_iret
#@ run kernel_thread entry
#@ at restore_all: (eflags & X86_EFLAGS_IF) == 0
#@ at irq_return: (eflags & X86_EFLAGS_IF) == 0
#@ at irq_return: [esp + 8] == 0x286
#@ at entry: eflags == 0x286

/* iret pops ip, cs, flags of the frame copy_thread built: 12 bytes, no sp/ss
 * (a ring-0 to ring-0 return). */
#@ test iret_pops_ip_cs_flags_of_the_child_frame
#@ run kernel_thread entry
#@ at irq_return: esp == stack + 0x1fe4
#@ at irq_return: [esp] == kernel_thread_helper
#@ at irq_return: [esp + 4] == __KERNEL_CS
#@ at kernel_thread_helper: esp == stack + 0x1ff0

/* __switch_to's load_sp0: the CPU's TSS holds the running task's stack top,
 * thread.sp0, just above the pt_regs copy_thread built. */
#@ test tss_sp0_is_the_running_tasks_stack_top
#@ run kernel_thread entry
#@ at entry: [per_cpu(per_cpu__init_tss, cpu) + TSS_sp0] == stack + 0x1ff8
#@ at entry: [current + TASK_thread_sp0] == stack + 0x1ff8

/* A frame that looks like a return to user mode (cs RPL 3) on a stack segment
 * in the LDT (TI bit of ss) takes the espfix path, which is ud2 here. */
#@ test user_frame_with_ldt_stack_takes_ldt_ss
#@ run bare user_frame_ldt_ss
#@ at ldt_ss: (u8[esp + PT_OLDSS] & SEGMENT_TI_MASK) == SEGMENT_LDT
#@ at ldt_ss: (u8[esp + PT_CS] & SEGMENT_RPL_MASK) == USER_RPL
#@ expect oops: invalid opcode
#@ expect oops: EIP is at ldt_ss+0x0

/* A kernel frame: whatever junk sits in its oldss slot (here an LDT selector),
 * cs RPL 0 keeps it on restore_nocheck, and iret returns to the frame's ip. */
#@ test kernel_frame_with_ldt_junk_returns_normally
#@ run bare kernel_frame_ldt_junk
#@ at ldt_junk_back: ebx == 0x1111
#@ at return: eax == 0x1234

/* The same kernel frame whose oldss slot is a GDT selector. */
#@ test kernel_frame_restores_every_register
#@ run bare kernel_frame_gdt
#@ at gdt_back: ebx == 0x1111
#@ at gdt_back: ecx == 0x2222
#@ at gdt_back: edx == 0x3333
#@ at gdt_back: esi == 0x4444
#@ at gdt_back: edi == 0x5555
#@ at return: eax == 0x1234

entry:
	ret

user_frame_ldt_ss:
	pushl $(SEGMENT_LDT | USER_RPL)	/* ss: an LDT selector */
	pushl $0			/* sp */
	pushl $0x202			/* flags */
	pushl $__USER_CS		/* cs: RPL 3 */
	pushl $0			/* ip */
	pushl $-1			/* orig_ax */
	pushl $0			/* gs */
	pushl $0			/* fs */
	pushl $__USER_DS		/* es */
	pushl $__USER_DS		/* ds */
	pushl $0			/* ax */
	pushl $0			/* bp */
	pushl $0			/* di */
	pushl $0			/* si */
	pushl $0			/* dx */
	pushl $0			/* cx */
	pushl $0			/* bx */
	jmp restore_all

/* kernel_frame(oldss, resume): push a ring-0 frame returning to resume with
 * ebx..edi = 0x1111..0x5555 and eax = 0x1234; resume restores esp from %ebp. */
.macro kernel_frame oldss, resume
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, %ebp
	pushl \oldss			/* ss slot: not popped by a ring-0 iret */
	pushl $0			/* sp slot */
	pushfl				/* flags */
	pushl $__KERNEL_CS		/* cs: RPL 0 */
	pushl $\resume			/* ip */
	pushl $-1			/* orig_ax */
	pushl %gs
	pushl %fs
	pushl %es
	pushl %ds
	pushl $0x1234			/* ax */
	pushl %ebp			/* bp */
	pushl $0x5555			/* di */
	pushl $0x4444			/* si */
	pushl $0x3333			/* dx */
	pushl $0x2222			/* cx */
	pushl $0x1111			/* bx */
	jmp restore_all
.endm

kernel_frame_ldt_junk:
	kernel_frame $(SEGMENT_LDT | USER_RPL), ldt_junk_back
ldt_junk_back:	movl %ebp, %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

kernel_frame_gdt:
	kernel_frame $__KERNEL_DS, gdt_back
gdt_back:	movl %ebp, %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
