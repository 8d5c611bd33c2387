/*
 * The bottom of every kernel stack: struct thread_info, then the
 * STACK_END_MAGIC word (asm/thread_info.h, kernel/fork.c dup_task_struct).
 */

#@ test thread_info_task_is_current
#@ run kthread ti
#@ at ti_done: [ebx + TI_task] == current
#@ at ti_done: ebx == stack

/* A kernel thread runs with addr_limit = KERNEL_DS. */
#@ test addr_limit_is_kernel_ds
#@ run kthread ti
#@ at ti_done: [ebx + TI_addr_limit] == 0xffffffff
#@ at ti_done: [ebx + TI_addr_limit] == KERNEL_DS

/* No work pending for a thread that has just started. */
#@ test no_thread_flags_at_start
#@ run kernel_thread ti
#@ at ti_done: [ebx + TI_flags] == 0

/* thread_info->cpu is the CPU the task runs on, bound or not. */
#@ test ti_cpu_of_a_bound_thread
#@ run kthread ti cpu=2
#@ at ti_done: [ebx + TI_cpu] == 2
#@ at ti_done: cpu == 2

#@ test ti_cpu_matches_the_cpu_number
#@ run kthread ti
#@ at ti_done: [ebx + TI_cpu] == [per_cpu(per_cpu__cpu_number, cpu)]

/* end_of_stack(): the word right after thread_info (TI_uaccess_err is its last field). */
#@ test stack_end_magic_after_thread_info
#@ run kthread read_magic
#@ at return: eax == STACK_END_MAGIC
#@ at return: eax == 0x57ac6e9d
#@ expect [stack + TI_uaccess_err + 4] == STACK_END_MAGIC

/* thread_info is 0x48 bytes (a 32-byte restart_block): the magic is at stack + 0x48. */
#@ test stack_end_magic_at_stack_plus_0x48
#@ run kthread ti
#@ expect [stack + 0x48] == 0x57ac6e9d

/* No CONFIG_PREEMPT: init_idle() set the boot task's preempt_count to 0; every thread inherits it. */
#@ test preempt_count_is_0
#@ run kthread ti
#@ at ti_done: [ebx + TI_preempt_count] == 0

#@ test preempt_count_is_0_for_kernel_thread
#@ run kernel_thread ti
#@ at ti_done: [ebx + TI_preempt_count] == 0

ti:
	movl %esp, %ebx
	andl $-THREAD_SIZE, %ebx
ti_done:
	ret

read_magic:
	movl %esp, %eax
	andl $-THREAD_SIZE, %eax
	movl TI_uaccess_err+4(%eax), %eax
	ret
