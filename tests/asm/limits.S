/*
 * The limits a test runs under: an instruction budget (a runaway loop is a
 * soft lockup at its eip), a bound on scheduling events (a loop around
 * schedule() that never ends), and the 8 KiB stack, whose overrun is
 * caught the moment it reaches the STACK_END_MAGIC word.
 */

#@ test runaway_loop_hits_the_budget
#@ run kthread spin budget=20000
#@ expect lockup

/* The kernel's soft-lockup line names the CPU, the task and where it spins. */
#@ test runaway_loop_reports_where_it_spins
#@ run kernel_thread spin budget=20000 name=spinner
#@ expect lockup: stuck for 20000 instructions! [spinner:
#@ expect lockup: (spin+0x0)
#@ at spin: ebx == spin

#@ test endless_schedule_loop
#@ run kthread yield_forever budget=100000
#@ expect lockup

/* Asleep with nobody to wake it: every CPU goes idle, the thread never exits. */
#@ test sleeping_forever_never_exits
#@ run kthread sleep_forever
#@ expect lockup
#@ expect [current + TASK_state] == TASK_INTERRUPTIBLE

#@ test unbounded_recursion_overruns_the_stack
#@ run kthread recurse
#@ expect overrun: Thread overran stack, or stack corrupted
#@ expect overrun: (recurse+0x0)

#@ test deep_but_bounded_recursion_fits
#@ run kthread recurse_n arg=1000
#@ expect exit == 0

spin:
	jmp spin

yield_forever:
	call schedule
	jmp yield_forever

sleep_forever:
	movl %fs:per_cpu__current_task, %eax
	movl $TASK_INTERRUPTIBLE, TASK_state(%eax)
	call schedule
	ret

recurse:
	call recurse

/* 1000 levels of 8 bytes fit in the 8 KiB stack. */
recurse_n:
	testl %eax, %eax
	jz 1f
	pushl %eax
	decl %eax
	call recurse_n
	popl %eax
1:	xorl %eax, %eax
	ret
