# Hostile guest code: every case ends in what the kernel would do (an oops that
# kills the thread, a BUG, a panic), or in this machine's documented outcome for
# what it does not model (emu/privileged.py); never a crash or a hang.

#@ test setting_cr0_pg_is_refused_as_a_gp_fault
#@ run kthread set_pg
#@ expect oops: general protection fault
#@ expect exit == SIGSEGV

#@ test writing_cr3_is_refused
#@ run kthread set_cr3
#@ expect oops: writes %cr3

#@ test lgdt_is_refused
#@ run kthread do_lgdt
#@ expect oops: lgdt

#@ test wrmsr_to_the_fs_base_is_refused
#@ run kthread wrmsr_fs
#@ expect oops: wrmsr

#@ test rdmsr_of_an_unknown_msr_is_a_gp_fault
#@ run kthread rdmsr_unknown
#@ expect oops: general protection fault

#@ test sysenter_is_refused
#@ run kthread do_sysenter
#@ expect oops: sysenter

#@ test cli_hlt_is_the_nmi_watchdogs_lockup
#@ run kthread cli_hlt
#@ expect oops: BUG: NMI Watchdog detected LOCKUP on CPU
#@ expect exit == SIGBUS

#@ test hlt_with_interrupts_on_goes_on
#@ run kthread hlt_on arg=5
#@ expect exit == 6

#@ test setting_tf_is_ignored_in_kernel_mode
#@ run kthread set_tf arg=9
#@ expect exit == 9
#@ expect u32[stack + TI_flags] & (1 << TIF_SINGLESTEP) != 0

#@ test divide_by_zero_is_a_divide_error
#@ run kthread div0
#@ expect oops: divide error: 0000 [#

#@ test int3_is_its_own_trap
#@ run kthread brk
#@ expect oops: int3: 0000 [#

#@ test a_software_interrupt_with_no_handler_is_a_gp_fault
#@ run kthread int41
#@ expect oops: general protection fault

#@ test a_store_into_the_next_instruction_is_seen
#@ run kthread smc
#@ expect exit == 1

#@ test a_sibling_list_pointing_at_itself_is_list_corruption
#@ run kernel_thread self_sibling
#@ expect oops: list corruption

#@ test garbage_in_current_task_panics
#@ run kthread bad_current
#@ expect oops: Kernel panic - not syncing: Fatal exception

#@ test a_clobbered_thunk_oopses
#@ run kthread clobber_thunk
#@ expect oops

#@ test a_task_without_a_stack_panics_instead_of_looping
#@ run kthread bad_stack
#@ expect oops: Kernel panic - not syncing

set_pg:	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	ret
set_cr3: xorl %eax, %eax
	movl %eax, %cr3
	ret
do_lgdt: lgdt gdtd
	ret
gdtd:	.word 0
	.long 0
wrmsr_fs: movl $0xc0000100, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
	ret
rdmsr_unknown: movl $0x12345, %ecx
	rdmsr
	ret
do_sysenter: sysenter
	ret
cli_hlt: cli
	hlt
	ret
hlt_on: incl %eax
	hlt
	ret
set_tf: pushfl
	orl $0x100, (%esp)
	popfl
	nop
	nop
	ret
div0:	xorl %ecx, %ecx
	divl %ecx
	ret
brk:	int3
	ret
int41:	int $0x41
	ret
smc:	movl $1, %eax
	movb $0xc3, patch
patch:	nop
	movl $2, %eax
	ret
self_sibling:
	movl %fs:per_cpu__current_task, %eax
	leal TASK_sibling(%eax), %edx
	movl %edx, TASK_sibling(%eax)
	movl %edx, TASK_sibling+4(%eax)
	ret
bad_current:
	movl $0x1234, %fs:per_cpu__current_task
	call schedule
	ret
clobber_thunk:
	movb $0x90, kthread_should_stop
	call kthread_should_stop
	ret
bad_stack:
	movl %fs:per_cpu__current_task, %eax
	movl $0, TASK_stack(%eax)
	call schedule
	ret
