# setjmp and longjmp for i386 in the style of musl's src/setjmp/i386 (written
# for this project): the buffer holds %ebx, %esi, %edi, %ebp, the caller's
# %esp and the return address; longjmp returns its value, or 1 for 0.
#@ test longjmp_returns_to_setjmp
#@ run bare jump_demo
#@ expect exit == 0x107

	.text
	.global	___setjmp
	.hidden	___setjmp
	.global	__setjmp
	.global	_setjmp
	.global	setjmp
	.type	__setjmp, @function
	.type	_setjmp, @function
	.type	setjmp, @function
___setjmp:
__setjmp:
_setjmp:
setjmp:
	mov	4(%esp), %eax
	mov	%ebx, (%eax)
	mov	%esi, 4(%eax)
	mov	%edi, 8(%eax)
	mov	%ebp, 12(%eax)
	lea	4(%esp), %ecx
	mov	%ecx, 16(%eax)
	mov	(%esp), %ecx
	mov	%ecx, 20(%eax)
	xor	%eax, %eax
	ret

	.global	_longjmp
	.global	longjmp
	.type	_longjmp, @function
	.type	longjmp, @function
_longjmp:
longjmp:
	mov	4(%esp), %edx
	mov	8(%esp), %eax
	cmp	$1, %eax
	adc	$0, %al
	mov	(%edx), %ebx
	mov	4(%edx), %esi
	mov	8(%edx), %edi
	mov	12(%edx), %ebp
	mov	16(%edx), %esp
	jmp	*20(%edx)

# setjmp returns 0, then 7 after longjmp(buf, 7): the result is the number
# of returns after the first (1) << 8, ored with the last value: 0x107.
	.globl	jump_demo
jump_demo:
	pushl	%ebx
	pushl	$jmpbuf
	call	setjmp
	addl	$4, %esp
	incl	calls
	testl	%eax, %eax
	jnz	1f
	pushl	$7
	pushl	$jmpbuf
	call	longjmp
1:	movl	calls, %edx
	decl	%edx
	shll	$8, %edx
	orl	%edx, %eax		# one return after the first: 0x100 | 7
	popl	%ebx
	ret

	.bss
	.p2align 2
jmpbuf:	.skip	24
calls:	.skip	4
