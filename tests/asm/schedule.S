/*
 * schedule() as a C function: callee-saved registers (ebx, esi, edi, ebp)
 * and the stack pointer survive it, even when other tasks run in between;
 * eax, ecx and edx are the caller's to lose (i386 regparm ABI).
 */

#@ test callee_saved_registers_survive_schedule
#@ run kthread keep_registers
#@ at after_schedule: ebx == 0x11111111
#@ at after_schedule: esi == 0x22222222
#@ at after_schedule: edi == 0x33333333
#@ at after_schedule: ebp == 0x44444444

#@ test stack_pointer_survives_schedule
#@ run kthread keep_registers
#@ at after_schedule: esp == [saved_esp]

/* Another task ran in between: kthread_run's caller, on the same CPU. */
#@ test same_task_after_schedule
#@ run kthread keep_registers cpu=0
#@ at after_schedule: [per_cpu(per_cpu__current_task, 0)] == current
#@ at return: eax == current
#@ expect [current + TASK_state] == TASK_DEAD

/* Callee-saved registers come back across a sleep and wake-up too. */
#@ test registers_survive_many_schedules
#@ run kthread schedule_often
#@ at return: eax == 0
#@ at return: ebx == 0x5a5a5a5a
#@ expect exit == 0

keep_registers:
	pushl %ebx
	pushl %esi
	pushl %edi
	pushl %ebp
	movl $0x11111111, %ebx
	movl $0x22222222, %esi
	movl $0x33333333, %edi
	movl $0x44444444, %ebp
	movl %esp, saved_esp
	call schedule
after_schedule:
	movl %fs:per_cpu__current_task, %eax
	popl %ebp
	popl %edi
	popl %esi
	popl %ebx
	ret

schedule_often:
	pushl %ebx
	movl $0x5a5a5a5a, %ebx
	movl $100, %ecx
1:	pushl %ecx
	call schedule
	popl %ecx
	loop 1b
	movl %ebx, %edx
	popl %ebx
	xorl %eax, %eax
	cmpl $0x5a5a5a5a, %edx
	je 2f
	movl $1, %eax
2:	movl %edx, %ebx
	ret

saved_esp:	.long 0
