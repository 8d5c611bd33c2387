/*
 * kthread_run, kthread_should_stop and kthread_stop (kernel/kthread.c, 2.6.32):
 * kthread() calls threadfn(data) with data in %eax only (regparm), and its
 * result is the thread's exit code and kthread_stop's return value.
 */

#@ test threadfn_gets_data_in_eax
#@ run kthread count_runs arg=0xabcd
#@ at count_runs: eax == 0xabcd
#@ expect exit == 0xabcd

#@ test should_stop_is_false_while_running
#@ run kthread ask_should_stop
#@ at return: eax == 0
#@ expect exit == 0

/* Stopped before it was ever woken: threadfn never runs, kthread() exits -EINTR. */
#@ test stop_before_running_gives_eintr
#@ run kthread count_runs stop=before
#@ expect exit == -EINTR
#@ expect [runs] == 0

/* Stopped while it polls: the loop sees kthread_should_stop() and returns -EINTR. */
#@ test stop_while_running_loop_returns_eintr
#@ run kthread poll_until_stopped stop=running
#@ at stopped: eax != 0
#@ expect exit == -EINTR
#@ expect [polls] >= 1

/* A bound thread is stopped the same way. */
#@ test stop_bound_thread
#@ run kthread poll_until_stopped cpu=2 stop=running
#@ at stopped: cpu == 2
#@ expect exit == -EINTR

count_runs:
	incl runs
	ret

ask_should_stop:
	call kthread_should_stop
	ret

poll_until_stopped:
	incl polls
	call kthread_should_stop
	testl %eax, %eax
	jnz stopped
	call schedule
	jmp poll_until_stopped
stopped:
	movl $-EINTR, %eax
	ret

runs:	.long 0
polls:	.long 0
