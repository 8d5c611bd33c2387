/*
 * The interrupt flag across a context switch: schedule() takes rq->lock with
 * spin_lock_irq, so switch_to runs with IF clear and a new task enters
 * ret_from_fork with IF clear; finish_task_switch's unlock sets it again for
 * whoever runs next; ret_from_fork's pushl $0x0202; popfl and the iret of the
 * pt_regs frame leave the thread function with IF set.
 */

/* (a kthread is watched from its thread function on: walk --via kthread_create shows its entry) */
#@ test ret_from_fork_entered_with_if_clear
#@ run kernel_thread sleep_once
#@ at ret_from_fork: eflags & X86_EFLAGS_IF == 0
#@ at kernel_thread_helper: eflags == 0x286

#@ test switch_to_runs_with_if_clear
#@ run kthread sleep_once
#@ at switch_to: eflags & X86_EFLAGS_IF == 0

#@ test if_set_again_after_schedule
#@ run kernel_thread sleep_once
#@ at sleep_once: eflags & X86_EFLAGS_IF == X86_EFLAGS_IF
#@ at slept: eflags & X86_EFLAGS_IF == X86_EFLAGS_IF

sleep_once:
	call schedule
slept:
	xorl %eax, %eax
	ret
