/*
 * What a thread function finds at its first instruction when it is started
 * by kernel_thread(): ret_from_fork has restored the pt_regs that
 * kernel_thread built, iret has popped ip/cs/flags, and kernel_thread_helper
 * has called fn(arg) with arg in %eax and on the stack
 * (arch/x86/kernel/entry_32.S, 2.6.32).
 */

#@ test arg_in_eax
#@ run kernel_thread entry arg=0x1234
#@ at entry: eax == 0x1234

#@ test arg_at_4_esp
#@ run kernel_thread entry arg=0xcafe
#@ at entry: [esp + 4] == 0xcafe

/* kernel_thread_helper's "pushl $0": a zero return address ends the unwinder's walk. */
#@ test fake_return_address_at_8_esp
#@ run kernel_thread entry arg=1
#@ at entry: [esp + 8] == 0

/* pushl $0 (2 bytes), movl %edx,%eax (2), push %edx (1), call *%ebx (2). */
#@ test returns_into_kernel_thread_helper
#@ run kernel_thread entry
#@ at entry: [esp] == kernel_thread_helper + 7

/* pt_regs ends 8 bytes below the stack top; iret pops 12 bytes, then two pushes and a call. */
#@ test esp_is_stack_plus_0x1fe4
#@ run kernel_thread entry
#@ at entry: esp == stack + 0x1fe4
#@ at entry: esp & ~(THREAD_SIZE - 1) == stack

/* regs.flags = X86_EFLAGS_IF | X86_EFLAGS_SF | X86_EFLAGS_PF | 2: interrupts on. */
#@ test eflags_0x286_interrupts_enabled
#@ run kernel_thread entry
#@ at entry: eflags == 0x286
#@ at entry: (eflags & X86_EFLAGS_IF) == X86_EFLAGS_IF

/* SAVE_ALL's choice: user data segments in ds/es, the per-CPU segment in fs. */
#@ test segment_selectors
#@ run kernel_thread entry
#@ at entry: cs == __KERNEL_CS
#@ at entry: cs == 0x60
#@ at entry: ds == 0x7b
#@ at entry: es == __USER_DS
#@ at entry: fs == 0xd8
#@ at entry: gs == 0xe0
#@ at entry: ss == 0x68

/* kernel_thread put fn in bx and arg in dx; the helper calls through %ebx. */
#@ test helper_registers
#@ run kernel_thread entry arg=77
#@ at entry: ebx == entry
#@ at entry: edx == 77

/* What copy_thread left on the child's stack (the child's copy has ax = 0). */
#@ test ptregs_built_by_kernel_thread
#@ run kernel_thread entry arg=0x55
#@ expect ptregs.bx == entry
#@ expect ptregs.dx == 0x55
#@ expect ptregs.ax == 0
#@ expect ptregs.ip == kernel_thread_helper
#@ expect ptregs.cs == __KERNEL_CS
#@ expect ptregs.flags == 0x286
#@ expect ptregs.orig_ax == -1
#@ expect ptregs.ds == __USER_DS
#@ expect ptregs.fs == __KERNEL_PERCPU
#@ expect ptregs.gs == __KERNEL_STACK_CANARY

/* kernel_thread_helper passes fn's result to do_exit; do_wait hands it to the parent. */
#@ test return_value_is_exit_code
#@ run kernel_thread answer arg=20
#@ at return: eax == 42
#@ expect exit == 42

#@ test negative_return_is_exit_code
#@ run kernel_thread fail_nomem
#@ expect exit == -ENOMEM

entry:
	ret

answer:
	leal 22(%eax), %eax
	ret

fail_nomem:
	movl $-ENOMEM, %eax
	ret
