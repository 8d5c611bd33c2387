# A context switch in the style of xv6's swtch.S (written for this project):
# save the callee-saved registers on the old stack, store %esp through the
# first argument, load the second as the new %esp, restore and return there.
#@ test switch_there_and_back
#@ run bare switch_demo
#@ expect exit == 42

	.text
	.globl	context_switch
	.type	context_switch, @function
context_switch:
	movl	4(%esp), %eax		# struct context **old
	movl	8(%esp), %edx		# struct context *new
	pushl	%ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	movl	%esp, (%eax)
	movl	%edx, %esp
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	ret
	.size	context_switch, .-context_switch

# Build a second context whose first return lands in `worker`, switch to it;
# the worker adds to %ebx's partner in memory and switches back.
	.globl	switch_demo
switch_demo:
	pushl	%ebx
	movl	$other_stack_top - 20, %eax
	movl	$worker, 16(%eax)	# the return address popped by `ret`
	movl	$0, 12(%eax)		# %ebp
	movl	$0, 8(%eax)		# %ebx
	movl	%eax, other_sp
	movl	$30, %ebx
	pushl	other_sp
	pushl	$main_sp
	call	context_switch
	addl	$8, %esp
	movl	result, %eax
	addl	%ebx, %eax		# callee-saved %ebx survived the trip: 30 + 12
	popl	%ebx
	ret

worker:
	movl	$12, result
	pushl	main_sp
	pushl	$other_sp
	call	context_switch
1:	jmp	1b			# never resumed

	.data
	.p2align 2
result:	.long	0
main_sp:	.long	0
other_sp:	.long	0

	.bss
	.p2align 4
other_stack:
	.skip	256
other_stack_top:
