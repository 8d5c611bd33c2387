# Trap vectors and a common entry in the style of xv6's trapasm.S and
# vectors.S (written for this project): each vector pushes an error code (or
# 0) and its number, the common path saves the segment and general registers,
# loads the kernel data segment, calls the handler with the frame and returns
# with iret.
	.equ	SEG_KDATA, 2

	.macro	vector num, has_error=0
	.globl	vector\num
vector\num:
	.if	\has_error == 0
	pushl	$0
	.endif
	pushl	$\num
	jmp	alltraps
	.endm

	.text
	vector	0
	vector	1
	vector	2
	vector	3
	vector	8, 1
	.irp	n, 10, 11, 12, 13, 14
	vector	\n, 1
	.endr
	vector	32
	vector	64

	.globl	alltraps
alltraps:
	pushl	%ds
	pushl	%es
	pushl	%fs
	pushl	%gs
	pushal
	movw	$(SEG_KDATA << 3), %ax
	movw	%ax, %ds
	movw	%ax, %es
	pushl	%esp
	call	trap
	addl	$4, %esp

	.globl	trapret
trapret:
	popal
	popl	%gs
	popl	%fs
	popl	%es
	popl	%ds
	addl	$0x8, %esp		# the number and the error code
	iret

trap:
	movl	4(%esp), %eax
	cmpl	$64, 0x30(%eax)		# the vector number in the frame
	jne	1f
	movl	$0, 0x1c(%eax)		# a system call returns 0 in %eax
1:	ret

	.data
	.globl	vectors
	.p2align 2
vectors:
	.irp	n, 0, 1, 2, 3, 8, 10, 11, 12, 13, 14, 32, 64
	.long	vector\n
	.endr
	.set	NVECTORS, (. - vectors) / 4
	.long	NVECTORS
