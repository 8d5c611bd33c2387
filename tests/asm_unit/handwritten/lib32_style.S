# Routines in the style of the kernel's arch/x86/lib/*_32.S after the C
# preprocessor (written for this project): ENTRY/ENDPROC expanded to .globl,
# .type, .p2align and .size, CFI annotations, a ones' complement checksum with
# adcl, a string copy with rep movs, and a semaphore-style fast path whose
# slow path lives out of line in another section.
#@ test checksum_copy_and_a_lock_slow_path
#@ run bare lib_demo
#@ expect exit == 0x3a8

	.text
	.globl	csum_words
	.type	csum_words, @function
	.p2align 4, 0x90
csum_words:				# (const void *buf, int len, unsigned sum)
	.cfi_startproc
	pushl	%esi
	.cfi_adjust_cfa_offset 4
	.cfi_rel_offset esi, 0
	movl	8(%esp), %esi
	movl	12(%esp), %ecx
	movl	16(%esp), %eax
	testl	%ecx, %ecx
	jz	3f
	shrl	$2, %ecx
	jz	2f
	clc
1:	adcl	(%esi), %eax
	leal	4(%esi), %esi
	decl	%ecx
	jnz	1b
	adcl	$0, %eax
2:	testl	$2, 12(%esp)
	jz	3f
	movzwl	(%esi), %edx
	addl	%edx, %eax
	adcl	$0, %eax
3:	movl	%eax, %edx		# fold to 16 bits
	shrl	$16, %edx
	andl	$0xffff, %eax
	addl	%edx, %eax
	movl	%eax, %edx
	shrl	$16, %edx
	addw	%dx, %ax
	movzwl	%ax, %eax
	popl	%esi
	.cfi_adjust_cfa_offset -4
	.cfi_restore esi
	ret
	.cfi_endproc
	.size	csum_words, .-csum_words

	.globl	copy_string
	.type	copy_string, @function
	.p2align 4, 0x90
copy_string:				# (dst, src, n): rep movsl then rep movsb
	pushl	%esi
	pushl	%edi
	movl	12(%esp), %edi
	movl	16(%esp), %esi
	movl	20(%esp), %ecx
	movl	%ecx, %edx
	shrl	$2, %ecx
	andl	$3, %edx
	rep ; movsl
	movl	%edx, %ecx
	rep ; movsb
	movl	12(%esp), %eax
	popl	%edi
	popl	%esi
	ret
	.size	copy_string, .-copy_string

# down(): a locked decrement; only a count that goes negative takes the slow
# path, which sits in .text.lock and jumps back.
	.globl	fast_down
	.type	fast_down, @function
	.p2align 4, 0x90
fast_down:				# %eax = &count (regparm)
	lock ; decl (%eax)
	js	2f
1:	ret
	.pushsection .text.lock, "ax"
2:	pushl	%eax
	call	down_slowpath
	popl	%eax
	jmp	1b
	.popsection
	.size	fast_down, .-fast_down

down_slowpath:
	movl	4(%esp), %eax
	incl	(%eax)			# give the count back
	incl	slow_calls
	ret

	.globl	lib_demo
lib_demo:
	pushl	$0
	pushl	$8			# two words: 0x0102 0x0304 0x0506 0x0708
	pushl	$packet
	call	csum_words		# 0x0201 + 0x0403 + 0x0605 + 0x0807 = 0x1410
	addl	$12, %esp
	pushl	%eax
	pushl	$6
	pushl	$name
	pushl	$copy
	call	copy_string
	addl	$12, %esp
	movzbl	copy + 5, %eax		# 'l'
	addl	(%esp), %eax		# + 0x1410
	movl	$count, %ecx
	movl	%eax, (%esp)
	movl	%ecx, %eax
	call	fast_down		# 1 -> 0: fast
	movl	$count, %eax
	call	fast_down		# 0 -> -1: slow path gives it back
	popl	%eax
	addl	slow_calls, %eax	# + 1
	subl	$0x1410 - 0x33b, %eax	# 0x6c + 0x1410 + 1 -> 0x3a8
	ret

	.section .rodata
	.p2align 2
packet:	.byte	1, 2, 3, 4, 5, 6, 7, 8
name:	.ascii	"kernely"

	.data
	.p2align 2
count:	.long	1
slow_calls:	.long	0

	.bss
copy:	.skip	8
