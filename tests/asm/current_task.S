/*
 * Who am I: current through the per-CPU segment (%fs:per_cpu__current_task),
 * through thread_info at the bottom of the 8 KiB stack, and the task_struct
 * fields a thread can read (asm/current.h, asm/thread_info.h).
 */

/* get_current() and current_thread_info()->task name the same task. */
#@ test fs_current_is_thread_info_task
#@ run kthread whoami
#@ at whoami_done: eax == current
#@ at whoami_done: ecx == current
#@ at whoami_done: eax == [(esp & ~8191) + TI_task]
#@ at return: eax == 1

#@ test fs_current_under_kernel_thread
#@ run kernel_thread whoami
#@ at whoami_done: eax == current
#@ expect exit == 1

/* kthread_create names the thread from namefmt once kthreadd has forked it. */
#@ test comm_is_the_kthread_name
#@ run kthread first_comm_word name=asmtest
#@ expect [current + TASK_comm] == "asmtest"
#@ at return: eax == 0x746d7361

#@ test comm_of_named_worker
#@ run kthread first_comm_word name=worker/3
#@ expect [current + TASK_comm] == "worker/3"
#@ expect u8[current + TASK_comm + 8] == 0

/* kernel_thread's child keeps its parent's name until someone renames it. */
#@ test kernel_thread_child_inherits_comm
#@ run kernel_thread first_comm_word name=parent
#@ expect [current + TASK_comm] == "parent"

#@ test pid_is_read_from_current
#@ run kthread my_pid
#@ at return: eax == [current + TASK_pid]
#@ expect exit == [current + TASK_pid]
#@ expect exit > 2

/* task->stack is the THREAD_SIZE-aligned block the stack pointer is in. */
#@ test task_stack_holds_esp
#@ run kthread my_stack
#@ at return: eax == stack
#@ at my_stack: esp - stack < THREAD_SIZE

/* A running thread is TASK_RUNNING; a kthread inherits kthreadd's PF_NOFREEZE. */
#@ test running_state_and_flags
#@ run kthread my_state_flags
#@ at my_state_flags: [current + TASK_state] == TASK_RUNNING
#@ at return: eax == TASK_RUNNING
#@ at return: (edx & PF_NOFREEZE) == PF_NOFREEZE
#@ at return: (edx & PF_KTHREAD) == PF_KTHREAD

whoami:
	movl %fs:per_cpu__current_task, %eax
	movl %esp, %ecx
	andl $-THREAD_SIZE, %ecx
	movl TI_task(%ecx), %ecx
whoami_done:
	cmpl %ecx, %eax
	sete %al
	movzbl %al, %eax
	ret

first_comm_word:
	movl %fs:per_cpu__current_task, %eax
	movl TASK_comm(%eax), %eax
	ret

my_pid:
	movl %fs:per_cpu__current_task, %eax
	movl TASK_pid(%eax), %eax
	ret

my_stack:
	movl %fs:per_cpu__current_task, %eax
	movl TASK_stack(%eax), %eax
	ret

my_state_flags:
	movl %fs:per_cpu__current_task, %ecx
	movl TASK_flags(%ecx), %edx
	movl TASK_state(%ecx), %eax
	ret
