/*
 * Faults in a kernel thread: the kernel prints an oops and the thread exits
 * with the signal oops_end() picks (SIGKILL for a bad address, SIGSEGV for an
 * invalid opcode); the machine goes on (arch/x86/mm/fault.c, dumpstack_32.c).
 */

#@ test ud2_is_invalid_opcode
#@ run kthread invalid_op
#@ expect oops: invalid opcode: 0000 [#1] SMP
#@ expect exit == SIGSEGV

#@ test null_read_is_null_pointer_dereference
#@ run kthread read_through arg=0
#@ expect oops: BUG: unable to handle kernel NULL pointer dereference at (null)
#@ expect exit == SIGKILL

#@ test unmapped_write_is_paging_request
#@ run kernel_thread write_through arg=0x1000
#@ expect oops: BUG: unable to handle kernel paging request at 00001000
#@ expect exit == SIGKILL

/* The oops names the faulting instruction and the process. */
#@ test oops_names_eip_and_process
#@ run kthread invalid_op name=broken
#@ expect oops: EIP is at invalid_op+0x0
#@ expect [current + TASK_comm] == "broken"

/* Returning to a smashed return address is a fetch from a bad address. */
#@ test smashed_return_address
#@ run kernel_thread smash_return arg=0xdead0000
#@ expect oops: paging request at dead0000

/* A bad pointer that is not NULL: the page fault is a paging request. */
#@ test read_below_the_kernel
#@ run bare read_through arg=0xbffff000 cpu=1
#@ expect oops: unable to handle kernel paging request at bffff000

invalid_op:
	ud2

read_through:
	movl (%eax), %eax
	ret

write_through:
	movl $1, (%eax)
	ret

smash_return:
	movl %eax, (%esp)
	ret
