/*
 * Per-CPU data through the segment registers: %fs is based at this CPU's
 * __per_cpu_offset (asm/percpu.h), %gs so that %gs:20 is the stack
 * protector canary (asm/stackprotector.h), and __switch_to loads the
 * incoming task's canary into it.
 */

/* raw_smp_processor_id() is percpu_read(cpu_number). */
#@ test cpu_number_of_bound_kthread
#@ run kthread cpu_number cpu=1
#@ at return: eax == 1
#@ expect exit == 1

#@ test cpu_number_on_cpu_2
#@ run kthread call_raw_smp_processor_id cpu=2
#@ expect exit == 2

#@ test bare_code_on_cpu_1
#@ run bare cpu_number cpu=1
#@ at cpu_number: cpu == 1
#@ at return: eax == 1
#@ expect exit == 1

#@ test bare_code_on_cpu_0
#@ run bare call_raw_smp_processor_id
#@ expect exit == 0

/* %fs:per_cpu__this_cpu_off is this CPU's entry of __per_cpu_offset[]. */
#@ test this_cpu_off_matches_per_cpu_offset
#@ run bare this_cpu_off cpu=2
#@ at return: eax == [__per_cpu_offset + 4 * 2]
#@ at return: eax != 0

/* The canary the stack protector reads is the per-CPU one ... */
#@ test gs_20_is_the_per_cpu_canary
#@ run kthread canary cpu=1
#@ at return: eax == [per_cpu(per_cpu__stack_canary, 1) + 20]
#@ at return: gs == __KERNEL_STACK_CANARY

/* ... and __switch_to made it the running task's own canary. */
#@ test canary_is_current_stack_canary
#@ run kthread canary
#@ at return: eax == [current + TASK_stack_canary]

#@ test canary_of_kernel_thread_child
#@ run kernel_thread canary
#@ at return: eax == [current + TASK_stack_canary]

cpu_number:
	movl %fs:per_cpu__cpu_number, %eax
	ret

call_raw_smp_processor_id:
	call raw_smp_processor_id
	ret

this_cpu_off:
	movl %fs:per_cpu__this_cpu_off, %eax
	ret

canary:
	movl %gs:STACK_CANARY_OFFSET, %eax
	ret
