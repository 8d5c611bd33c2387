# memcpy, memset and strlen for i386 in the style of musl's src/string/i386
# (written for this project): cdecl arguments on the stack, rep movsl/stosl
# for the words, a byte loop or rep for the tail, repne scasb for the length.
#@ test memcpy_memset_strlen
#@ run bare string_demo
#@ expect exit == 0x2a0b

	.text
	.global	memcpy
	.type	memcpy, @function
memcpy:
	push	%esi
	push	%edi
	mov	12(%esp), %edi
	mov	16(%esp), %esi
	mov	20(%esp), %ecx
	mov	%edi, %eax
	cmp	$4, %ecx
	jc	1f
	test	$3, %edi
	jz	1f
2:	movsb
	dec	%ecx
	test	$3, %edi
	jnz	2b
1:	mov	%ecx, %edx
	shr	$2, %ecx
	rep
	movsl
	and	$3, %edx
	jz	1f
2:	movsb
	dec	%edx
	jnz	2b
1:	pop	%edi
	pop	%esi
	ret
	.size	memcpy, . - memcpy

	.global	memset
	.type	memset, @function
memset:
	push	%edi
	mov	8(%esp), %edi
	movzbl	12(%esp), %eax
	mov	16(%esp), %ecx
	imul	$0x01010101, %eax
	mov	%ecx, %edx
	shr	$2, %ecx
	rep	stosl
	mov	%edx, %ecx
	and	$3, %ecx
	rep	stosb
	mov	8(%esp), %eax
	pop	%edi
	ret
	.size	memset, . - memset

	.global	strlen
	.type	strlen, @function
strlen:
	push	%edi
	mov	8(%esp), %edi
	xor	%eax, %eax
	lea	-1(%eax), %ecx
	cld
	repne	scasb
	not	%ecx
	lea	-1(%ecx), %eax
	pop	%edi
	ret
	.size	strlen, . - strlen

# Fill 40 bytes of buf with 'x', copy "hello world" and its NUL to buf+3
# (unaligned), take its length: 0x0b, with 0x2a << 8 added when buf[39] still
# holds memset's 'x'; 0 if anything wrote past the 40 bytes.
	.globl	string_demo
string_demo:
	pushl	$40
	pushl	$'x
	pushl	$buf
	call	memset
	addl	$12, %esp
	pushl	$12			# the greeting and its NUL
	pushl	$greeting
	pushl	$buf + 3
	call	memcpy
	addl	$12, %esp
	pushl	$buf + 3
	call	strlen			# 11
	addl	$4, %esp
	movzbl	buf + 39, %edx		# 'x', left by memset
	subl	$'x - 0x2a, %edx	# 0x2a when it is
	shll	$8, %edx
	orl	%edx, %eax		# 0x2a0b
	cmpb	$0, buf + 40
	je	1f
	xorl	%eax, %eax
1:	ret

	.section .rodata.str1.1, "aMS", @progbits, 1
greeting:
	.string	"hello world"

	.bss
	.p2align 2
buf:	.skip	48
