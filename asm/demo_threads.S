/*
 * Thread functions for the walk-through and the tests.  Each is called as
 * fn(arg) by kernel_thread_helper: arg in %eax and at 4(%esp).
 */

/* answer: return the register copy of arg plus the stack copy (2 * arg). */
	.globl answer
answer:
	addl 4(%esp), %eax
	ret
/* end answer */

/* whoami: return current (read through %fs) if it matches thread_info->task, else 0. */
	.globl whoami
whoami:
	movl %fs:per_cpu__current_task, %eax
	movl %esp, %edx
	andl $-THREAD_SIZE, %edx
	cmpl TI_task(%edx), %eax
	je 1f
	xorl %eax, %eax
1:	ret
/* end whoami */

/* read_canary: return this CPU's stack canary, %gs:20. */
	.globl read_canary
read_canary:
	movl %gs:STACK_CANARY_OFFSET, %eax
	ret
/* end read_canary */

/* bad_pointer: read through the argument as a pointer. */
	.globl bad_pointer
bad_pointer:
	movl (%eax), %eax
	ret
/* end bad_pointer */

/* invalid_op: execute ud2. */
	.globl invalid_op
invalid_op:
	ud2
/* end invalid_op */

/* smash_stack: overwrite our return address with the argument, then return to it. */
	.globl smash_stack
smash_stack:
	movl %eax, (%esp)
	ret
/* end smash_stack */

/* spin: never return. */
	.globl spin
spin:
	jmp spin
/* end spin */

/* stoppable: note that it started, yield the CPU until kthread_stop(), then return 7. */
	.globl stoppable
stoppable:
	incl stoppable_runs
1:	call kthread_should_stop
	testl %eax, %eax
	jnz 2f
	call schedule
	jmp 1b
2:	movl $7, %eax
	ret
/* end stoppable */

	.globl stoppable_runs
stoppable_runs:
	.long 0

/* where_am_i: this CPU's number, read through %fs. */
	.globl where_am_i
where_am_i:
	call raw_smp_processor_id
	ret
/* end where_am_i */
