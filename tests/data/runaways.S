/*
 * Runs that must end, with a verdict, however much work they make: the
 * kernel's own limits first (-ENOMEM when the stack pages run out), then the
 * machine's (the soft lockup counts each call into a Python kernel function;
 * a run is bounded in scheduling events).  tests/test_limits.py runs them.
 */

/* Calls kernel_thread in a loop and never schedules: a soft lockup. */
#@ test forks_without_scheduling
#@ run kthread forker
#@ expect lockup: BUG: soft lockup

/* Every child forks too. */
#@ test fork_bomb
#@ run kthread bomb budget=100000
#@ expect lockup: BUG: soft lockup

/* Schedules after each fork (its children are reaped: kthreads ignore SIGCHLD). */
#@ test polite_fork_bomb
#@ run kthread polite_bomb budget=100000
#@ expect lockup: scheduling events

/* hlt with interrupts on waits for an interrupt (the rest of its slice), and
 * never schedules. */
#@ test halts_for_ever
#@ run kthread halt budget=100000
#@ expect lockup: BUG: soft lockup

/* Its children stay zombies: the stack pages run out, as in the kernel. */
#@ test forks_until_memory_runs_out
#@ run kernel_thread fill budget=10000000
#@ expect exit == -ENOMEM

forker:
	movl $child, %eax
	xorl %edx, %edx
	movl $(CLONE_FS | CLONE_FILES | SIGCHLD), %ecx
	call kernel_thread
	jmp forker

bomb:
	movl $bomb, %eax
	xorl %edx, %edx
	movl $(CLONE_FS | CLONE_FILES | SIGCHLD), %ecx
	call kernel_thread
	jmp bomb

polite_bomb:
	movl $polite_bomb, %eax
	xorl %edx, %edx
	movl $(CLONE_FS | CLONE_FILES | SIGCHLD), %ecx
	call kernel_thread
	call schedule
	jmp polite_bomb

fill:
	movl $child, %eax
	xorl %edx, %edx
	movl $(CLONE_FS | CLONE_FILES | SIGCHLD), %ecx
	call kernel_thread
	testl %eax, %eax
	js 1f
	call schedule
	jmp fill
1:	ret

halt:
	sti
	hlt
	jmp halt

child:
	ret
