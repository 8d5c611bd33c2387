## Differential corpus: every group is assembled by asm.assembler and by GNU as --32,
## at two origins, and must give the same bytes.
## A group is a line starting in column 0 plus the indented lines after it.
## Lines starting with '##' are notes. Labels and macro names are unique across
## the file, because GNU as reads all groups as one file (one section each).
## External symbols come from CORPUS_DEFINES in test_asm_corpus.py.

## ---- mov, all operand shapes
movl $42, %eax
movl $0x2a, %ebx
movl $-1, %ecx
movl $0, %edx
movl $0xffffffff, %esi
movl $-2147483648, %edi
movl $4294967295, %ebp
movl %eax, %ebx
movl %esp, %ebp
movw %ax, %bx
movb %al, %ah
movb $0x7f, %cl
movb $-128, %dl
movb $255, %bh
movw $0x1234, %si
movw $-1, %di
movl (%eax), %ebx
movl %ebx, (%eax)
movl 4(%esp), %eax
movl -4(%ebp), %eax
movl 0(%ebp), %eax
movl 0(%eax), %eax
movl 127(%ebx), %ecx
movl 128(%ebx), %ecx
movl -128(%ebx), %ecx
movl -129(%ebx), %ecx
movl 0xfffffffc(%ebp), %eax
movl (%esp), %eax
movl (%ebp), %eax
movl 8(%esp,%eax,4), %ebx
movl (%eax,%ebx), %ecx
movl (%eax,%ebx,1), %ecx
movl (%eax,%ebx,2), %ecx
movl (,%eax,4), %ebx
movl 0x10(,%ecx,8), %ebx
movl sys_table(,%eax,4), %ebx
movl 0x1234, %eax
movl %eax, 0x1234
movb 0x1234, %al
movw %ax, 0x1234
movl 0x1234, %ebx
movl %ecx, 0xc0100000
movl $0x12345678, 16(%esp)
movw $0x1234, (%eax)
movb $7, -1(%ebp,%esi,2)
movl $PT_EAX, %eax
movl PT_EAX(%esp), %eax
movl %eax, PT_EAX(%esp)
movl PT_OLDSS+4(%esp), %eax
movl (PT_OLDSS+4)(%esp), %eax
movl -8192(%esp), %eax
movl $-8192, %eax
andl $-8192, %esp
movl $(X86_EFLAGS_IF|0x2), %eax
movl $X86_EFLAGS_IF|X86_EFLAGS_SF|X86_EFLAGS_PF|2, %eax
movl TASK_pid(%eax), %ebx
movl %fs:per_cpu__current_task, %eax
movl %fs:0x10, %eax
movl %eax, %fs:0x10
movl %gs:(%eax), %ebx
movl %es:4(%edi), %ebx
movl %ss:-4(%ebp), %ebx
movl %cs:(%eax), %ebx
movl %ds:(%eax), %ebx
movw %fs:8(%eax,%ecx,2), %dx
movl $do_exit, %eax
movl do_exit, %eax

## ---- segment registers
movl %edx, %ds
movl %edx, %es
movw %dx, %ds
movw %ax, %fs
movl %eax, %gs
movl %ds, %eax
movw %ds, %ax
movw %ds, (%eax)
movw (%eax), %ds
movw %fs, 4(%esp)
movl %ss, %ecx
pushl %fs
pushl %gs
pushl %ds
pushl %es
pushl %ss
pushl %cs
popl %fs
popl %gs
popl %ds
popl %es
popl %ss
pushw %fs
popw %gs
push %fs
pop %gs

## ---- arithmetic and logic, every size and form
addl $1, %eax
addl $127, %eax
addl $128, %eax
addl $-128, %ebx
addl $-129, %ebx
addl $0x80, %ecx
addl $0xffffff80, %ecx
addl $~0x7f, %ecx
addw $0xff80, %ax
addw $1, %bx
addb $1, %al
addb $1, %cl
addl %eax, %ebx
addl (%eax), %ebx
addl %ebx, (%eax)
addl $4, 8(%esp)
addl $0x1000, 8(%esp)
adcl $0, %edx
sbbl %eax, %eax
subl $8, %esp
subl %ecx, %edx
subl $PT_OLDSS, %esp
subw $0x100, %ax
andl $0xff, %eax
andl $0xffffff00, %eax
andl $~(THREAD_SIZE-1), %eax
andb $0xf0, %al
andw $0x0fff, %dx
orl $X86_EFLAGS_IF, %eax
orl %ebx, %eax
orb $0x80, (%eax)
xorl %eax, %eax
xorl $-1, %ebx
xorw %cx, %cx
xorb %dl, %dl
cmpl $0, %eax
cmpl $-4095, %eax
cmpl %ebx, %eax
cmpl (%ebx), %eax
cmpl $0x12345678, 4(%ebx)
cmpb $0, (%eax)
cmpw $0x1234, %ax
cmpl $PT_OLDSS, %edx
testl %eax, %eax
testl $1, %eax
testl $0x100, %ebx
testb $3, %al
testb $3, %bl
testb $3, 0x8(%esp)
testl $X86_EFLAGS_IF, PT_EFLAGS(%esp)
testw $0x8000, %cx
incl %eax
incl %edi
incw %ax
incb %al
incl (%eax)
incl 4(%esp)
decl %ecx
decw %dx
decb %bl
decl (%eax)
negl %eax
negw %bx
negb (%eax)
notl %eax
notb %al
notl 4(%esp)

## ---- lea, xchg, multiply and divide
leal 4(%esp), %eax
leal (%eax,%ebx,4), %ecx
leal -1(%eax), %eax
leal 0x10(%esp,%eax,8), %eax
leal (,%eax,8), %edx
leal sys_table(,%eax,4), %ebx
leal PT_EAX(%esp), %ebx
leaw 2(%bx), %ax
xchgl %eax, %ebx
xchgl %ebx, %eax
xchgl %ecx, %edx
xchgl %eax, (%ebx)
xchgl (%ebx), %eax
xchg %eax, %eax
xchgw %ax, %bx
xchgb %al, %ah
imull %ebx
imull %ebx, %eax
imull (%ebx), %eax
imull $3, %eax
imull $3, %ebx, %eax
imull $1000, %ebx, %eax
imull $-1, 4(%esp), %ecx
imulw $3, %ax
mull %ecx
mulb %cl
mull 4(%esp)
divl %ecx
divb %bl
idivl %ecx
idivl (%eax)
idivw %cx
cltd
cdq
cwtl
cbw
cwde

## ---- shifts and rotates
shll $1, %eax
shll %eax
shll $2, %eax
shll $31, %ebx
shll %cl, %eax
shrl $4, %edx
shrl %cl, %edx
sarl $31, %eax
sarl %eax
sall $3, %eax
shlb $1, %al
shrw $8, %ax
shll $2, (%eax)
rol $4, %eax
rorl %cl, %ebx
rcll %eax
rcrl $2, %eax
shldl $4, %eax, %edx
shrdl %cl, %edx, %eax

## ---- bit operations
btl $3, %eax
btl %ecx, (%eax)
btsl $0, (%eax)
btrl %eax, %ebx
btcl $31, 4(%esp)
bsfl %eax, %ebx
bsrl (%eax), %ecx
bswap %eax
bswapl %edx

## ---- movzx / movsx
movzbl %al, %eax
movzbl (%eax), %ecx
movzbl 4(%esp), %edx
movzwl %ax, %eax
movzwl (%ebx), %ecx
movzbw %al, %ax
movsbl %al, %eax
movsbl (%eax), %ecx
movswl %ax, %eax
movswl -2(%ebp), %edx
movsbw %cl, %dx
movzx %al, %eax
movsx %bl, %ecx

## ---- setcc
seta %al
setae %al
setb %al
setbe %bl
setc %cl
sete %al
setz %dl
setg %al
setge %al
setl %al
setle %al
setna %al
setnae %al
setnb %al
setnbe %al
setnc %al
setne %al
setng %al
setnge %al
setnl %al
setnle %al
setno %al
setnp %al
setns %al
setnz %al
seto %al
setp %al
setpe %al
setpo %al
sets %al
sete (%eax)
setne 4(%esp)

## ---- conditional moves
cmovel %eax, %ebx
cmovnel (%eax), %ecx
cmovgl %edx, %esi

## ---- stack
pushl %eax
pushl %ebp
pushl $0
pushl $1
pushl $127
pushl $128
pushl $-1
pushl $0x12345678
pushl $do_exit
pushl (%eax)
pushl 4(%esp)
pushl PT_OLDSS+4(%esp)
pushw %ax
pushw $0x1234
popl %eax
popl %ebp
popl (%eax)
popl 4(%esp)
popw %ax
pushfl
popfl
pushf
popf
pushal
popal
pusha
popa
leave
enter $8, $0
enter $0x100, $1
ret
ret $4
ret $0x100
lret
lret $8
iret
iretl

## ---- flags, system, misc
cli
sti
cld
std
clc
stc
cmc
nop
hlt
ud2
int3
int $3
int $0x80
into
cpuid
rdtsc
rdmsr
wrmsr
pause
lahf
sahf
wbinvd
invlpg (%eax)
clts
lgdt (%eax)
lidt 6(%esp)
sgdt (%eax)
ltr %ax
lldt %ax
movl %cr0, %eax
movl %eax, %cr0
movl %cr3, %ebx
movl %ebx, %cr3
movl %cr2, %eax
movl %cr4, %ecx
movl %dr7, %eax
movl %cr1, %edx
movl %db7, %eax
movl %eax, %db0
mov %db6, %ecx
mov %esi, %dr3
movl %ebx, %cr4
movl %cr4, %ebx
inb $0x60, %al
inb %dx, %al
inl %dx, %eax
outb %al, $0x80
outb %al, %dx
outw %ax, %dx
xlat
aaa
daa

## ---- string instructions and rep
movsb
movsw
movsl
stosb
stosl
lodsb
lodsl
scasb
cmpsb
cmpsl
rep movsb
rep movsl
rep movsw
rep stosb
rep stosl
repz cmpsb
repe cmpsl
repne scasb
repnz scasb
rep lodsb
rep insb
rep outsl
rep; movsb
rep
	movsl
rep nop
rep ret
rep movsb %fs:(%esi), %es:(%edi)
movsb %fs:(%esi), %es:(%edi)
stosl %eax, %es:(%edi)
stos %eax, %es:(%edi)
stosw %ax, (%edi)
lodsb %fs:(%esi), %al
lods (%esi), %eax
scasb %es:(%edi), %al
scas (%edi), %al
cmpsb %es:(%edi), %fs:(%esi)
cmpsl (%esi), (%edi)
movs (%esi), (%edi)
movsb (%si), (%di)
movsb %ds:(%esi), %es:(%edi)
movsb %es:(%esi), %es:(%edi)
xlat %fs:(%ebx)
xlat (%ebx)
xlatb %ds:(%ebx)
insb (%dx), %es:(%edi)
outsb %fs:(%esi), (%dx)
outsw (%esi), (%dx)
movsd %xmm0, %xmm1

## ---- lock
lock; cmpxchgl %ecx, (%edx)
lock cmpxchgl %ecx, (%edx)
lock xaddl %eax, (%edx)
lock; xaddl %eax, 4(%edx)
lock incl (%eax)
lock decl 8(%ebx)
lock addl $1, (%eax)
lock subl %eax, (%ebx)
lock orl $4, (%eax)
lock andl $-5, (%eax)
lock xorl %ecx, (%eax)
lock btsl $0, (%eax)
lock btrl %eax, (%ebx)
lock cmpxchg8b (%esi)
lock xchgl %eax, (%ebx)
lock negl (%eax)
lock notl (%eax)
lock incw %fs:(%eax)
lock incl %fs:(%eax)
lock cmpxchgb %cl, (%edx)
lock
	incl (%eax)
lock; movl %eax, %ebx

## ---- indirect branches
call *%ebx
call *%eax
call *(%eax)
call *4(%ebx)
call *sys_table(,%eax,4)
call *do_exit
call *PT_EAX(%esp)
jmp *%eax
jmp *(%eax)
jmp *8(%esp)
jmp *sys_table(,%ecx,4)
jmp *%fs:0x10
call %eax
jmp %ebx
ljmp $0x60, $0x1234
lcall $0x60, $0x12345678
ljmpl $8, $far_start
	far_start: nop
ljmpw $0x10, $0x1234
lcallw $0x10, $0xfffe
lcalll $0x60, $0x10
ljmp $8, $schedule
ljmp *(%eax)
lcall *4(%ebx)

## ---- direct branches to external absolute symbols and numbers
call do_exit
jmp do_exit
je do_exit
jne schedule
call schedule
jmp 0x1234
call 0x1234
je 0x1234
call do_exit+4
calll do_exit

## ---- relaxation: short when in reach, near otherwise
jmp rlx_a
	nop
	rlx_a: ret
jmp .
je .
jne .+2
jmp rlx_b
	.skip 125
	rlx_b: nop
jmp rlx_c
	.skip 126
	rlx_c: nop
jmp rlx_d
	.skip 127
	rlx_d: nop
jmp rlx_e
	.skip 128
	rlx_e: nop
rlx_f: .skip 126
	jmp rlx_f
rlx_g: .skip 125
	jmp rlx_g
rlx_h: .skip 127
	je rlx_h
rlx_i: .skip 126
	jne rlx_i
je rlx_j
	.skip 127
	rlx_j: nop
je rlx_k
	.skip 128
	rlx_k: nop
jmp 1f
	.skip 100
	jmp 1f
	.skip 27
	1: nop
jmp rlx_m1
	.skip 124
	jmp rlx_m2
	rlx_m1: nop
	.skip 124
	rlx_m2: nop
jmp rlx_n1
	jmp rlx_n2
	.skip 123
	rlx_n1: nop
	rlx_n2: nop
1: jmp 1b
1: je 1b
1: nop
	jmp 1b
	jmp 2f
	2: jmp 1b
	jmp 2b
call rlx_o
	.skip 10
	rlx_o: ret
call 1f
	1: popl %eax
ja 1f
	jae 1f
	jb 1f
	jbe 1f
	jc 1f
	je 1f
	jz 1f
	jg 1f
	jge 1f
	jl 1f
	jle 1f
	jna 1f
	jnae 1f
	jnb 1f
	jnbe 1f
	jnc 1f
	jne 1f
	jng 1f
	jnge 1f
	jnl 1f
	jnle 1f
	jno 1f
	jnp 1f
	jns 1f
	jnz 1f
	jo 1f
	jp 1f
	jpe 1f
	jpo 1f
	js 1f
	1: nop
ja 1f
	.skip 200
	js 1f
	jo 1f
	.skip 200
	1: nop
jecxz 1f
	loop 1f
	loope 1f
	loopne 1f
	loopz 1f
	loopnz 1f
	1: nop
jcxz .
jmp .L_rlx_p
	.L_rlx_p: nop
jmp rlx_q+2
	rlx_q: nop
	nop
	nop

## ---- values folded at parse time or left to a relocation (GNU as picks widths by that)
nc_a: nop
	nop
	nc_b: addl $(nc_b-nc_a), %eax
	addl $(nc_end-nc_a), %eax
	movl (nc_b-nc_a)(%esp), %eax
	movl (nc_end-nc_a)(%esp), %eax
	pushl $(nc_b-nc_a)
	pushl $(nc_end-nc_a)
	nc_end: ret
nd_a: nop
	jmp nd_b
	nd_b: addl $(nd_b-nd_a), %eax
	addl $(nd_b-nd_b), %eax
	.skip 2
	nd_c: addl $(nd_c-nd_b), %eax
	.p2align 3
	nd_d: addl $(nd_d-nd_c), %eax
	cmpl $(. - nd_d), %eax
ne_a: addl $ne_a, %eax
	addl $ne_b, %eax
	movl ne_a(%eax), %ebx
	movl ne_b+4(,%eax,4), %ebx
	ne_b: pushl $ne_a
	imull $ne_a, %eax, %ebx
	movb $(ne_b-ne_a), %al
	movl $ne_a+4, ne_b(%eax)
nf_a: movl $nf_x, %eax
	addl $nf_x, %eax
	.set nf_x, 5
	addl $nf_x, %eax
nf_y = 3
	addl $nf_y, %eax
	movl nf_y(%esp), %eax
	.set nf_y, 300
	addl $nf_y, %eax
	.equ nf_z, nf_y*2
	movl $nf_z, %eax
ng_a: .set ng_b, ng_a + 8
	movl $ng_b, %eax
	addl $(ng_b - ng_a), %eax
	jmp ng_b
	nop
	nop
	nop
	nop

## ---- numbers and expressions
movl $10, %eax
movl $0x10, %eax
movl $010, %eax
movl $0b101, %eax
movl $0B11, %eax
movl $0X1F, %eax
movl $'a, %eax
movl $'a', %eax
movl $'\n, %eax
movl $'\\, %eax
movl $'#, %eax
movl $';, %eax
movl $',, %eax
movl $-'a, %eax
movl $1+2*3, %eax
movl $(1+2)*3, %eax
movl $4+3&1, %eax
movl $1<<4|1, %eax
movl $0x100>>4, %eax
movl $(0-8)>>1, %eax
movl $-8/3, %eax
movl $-8%3, %eax
movl $7/2, %eax
movl $~0, %eax
movl $!0, %eax
movl $!5, %eax
movl $-(-5), %eax
movl $+5, %eax
movl $2 < 3, %eax
movl $2 > 3, %eax
movl $1 && 0, %eax
movl $1 || 0, %eax
movl $1 <> 2, %eax
movl $0x7fffffff+1, %eax
movl $( ( 2 + 3 ) * ( 4 - 1 ) ), %eax
movl $X86_EFLAGS_IF>>8, %eax
addl $-THREAD_SIZE, %esp
movl $THREAD_SIZE-1, %ecx
movl $~(THREAD_SIZE-1)&0xffffffff, %ecx
movl $0xffffffff00000000>>32, %eax
movl ( 4 )(%esp), %eax

## ---- data directives
.long 1, 2, 3
.long 0xdeadbeef
.long -1
.long 100
.long do_exit
.long PT_EAX+4, X86_EFLAGS_IF|2
.int 7, -7
.word 1, 0xffff, -1
.word 100
.short 0x1234, -32768
.byte 1, 2, 255, -1, -128
.byte 'a, 'b', '\n, '#
.byte 100
.byte 0x7f, 0200
.quad 0x123456789abcdef0
.quad -1
.long 1 == 1, 1 != 1, 2 <= 2, 3 >= 4, 2 == 3
.byte 1 == 1, 1 != 2
da_a: .long da_a, da_b, da_b-da_a
	da_b: .word da_b-da_a
	.byte da_b-da_a
	.long .
	.long ., .
.long 1f
	1: .long 1b
.ascii "abc"
.ascii "a", "b"
.asciz "hello"
.string "hi\tthere\n"
.ascii "\001\002\377\x41\x4a"
.ascii "quote\"inside"
.ascii "a#b;c/*d*/"
.asciz ""
.ascii "\\back"
.fill 3, 1, 0x90
.fill 2, 2, 0x1234
.fill 2, 4, -1
.fill 1, 8, 0x11223344
.fill 2, 9, 0x11
.fill 4
.fill 0, 4, 1
.skip 4
.skip 3, 0xcc
.space 2
.space 2, 0x90

## ---- alignment (GNU as fills code with nop patterns)
nop
	.p2align 2
nop
	.p2align 4
nop
	.p2align 5
.byte 1
	.balign 8
.byte 1
	.align 16
.byte 1
	.balign 8, 0
.byte 1
	.balign 8, 0xcc
.byte 1
	.p2align 4,,7
.byte 1
	.p2align 4,,15
.byte 1
	.p2align 3,0x90
.byte 1
	.p2align 3,,0
.skip 5
	.p2align 4
.skip 10
	.p2align 5
.skip 11
	.p2align 5
.skip 12
	.p2align 5
.skip 20
	.p2align 6
.skip 1
	.p2align 8
.skip 3
	.balign 4
	.balign 4
.p2align 0
	.balign 1
	nop
.byte 1
	.p2align 12
al_a: jmp al_b
	.p2align 4
	al_b: nop

## ---- symbols: .set, .equ, =, .globl, .type, .size
.set sy_one, 1
	movl $sy_one, %eax
.equ sy_two, 2
	movl $sy_two, %eax
sy_three = 3
	movl $sy_three, %eax
sy_four=4
	movl $sy_four, %eax
.set sy_base, 1
	.set sy_five, sy_base + 4
	movl $sy_five, %eax
.set sy_six, PT_EAX
	movl sy_six(%esp), %eax
.globl sy_fn
	.type sy_fn, @function
	sy_fn: ret
	.size sy_fn, . - sy_fn
.global sy_g1, sy_g2
	sy_g1: nop
	sy_g2: nop
sy_l1: sy_l2: nop
sy_l3:
	nop
.Lsy_local: nop
	jmp .Lsy_local
sy_x: .long sy_x - .
.equiv sy_e1, 7
	movl $sy_e1, %eax

## ---- macros, .rept, .irp
.macro mc_save reg
	pushl \reg
	.endm
	mc_save %eax
	mc_save %ebx
.macro mc_two a, b=7
	movl $\a, %eax
	movl $\b, %ebx
	.endm
	mc_two 1
	mc_two 1, 2
	mc_two 1 + 2
	mc_two b=9, a=8
	mc_two 3 4
.macro mc_va first, rest:vararg
	.byte \first
	.byte \rest
	.endm
	mc_va 1, 2, 3, 4
.macro mc_req x:req
	.long \x
	.endm
	mc_req 42
.macro mc_cat name
	movl $\name\()_v, %eax
	.endm
	.set cat_v, 11
	mc_cat cat
.macro mc_lbl
	jmp 1f
	nop
	1: nop
	.endm
	mc_lbl
	mc_lbl
.macro mc_push2 reg
	pushl \reg
	.endm
	.macro mc_outer x
	mc_push2 \x
	mc_push2 \x
	.endm
	mc_outer %ecx
.macro mc_exit
	nop
	.exitm
	hlt
	.endm
	mc_exit
.macro mc_mem off, reg
	movl \off(%esp), \reg
	.endm
	mc_mem 4, %eax
	mc_mem PT_EAX, %ebx
.macro mc_push3 reg
	pushl \reg
	.endm
	mc_label: mc_push3 %edx
.rept 3
	nop
	.endr
.rept 0
	hlt
	.endr
.set rp_n, 2
	.rept rp_n
	incl %eax
	.endr
.rept 2
	.rept 2
	nop
	.endr
	int3
	.endr
.irp r, %eax, %ebx, %ecx
	pushl \r
	.endr
.irpc c, 123
	.byte \c
	.endr

## ---- comments and statement separators
movl $1, %eax # trailing comment
movl $1, %eax /* block comment */
/* leading */ movl $2, %eax
movl /* inside */ $3, %eax
nop; nop; nop
nop ; nop ;
movl $1, %eax; movl $2, %ebx # both
movl $1, %eax /* multi
	line */ ; nop
# just a comment
	nop
movl $4, %eax # ; not a separator here
	nop

## ---- case and spacing
MOVL $1, %EAX
Nop
movl	$1,%eax
movl $1 , %eax
movl 4 ( %esp ) , %eax
movl 4(%esp,%eax, 4), %ebx
pushl	%ebp
	movl	%esp,	%ebp

## ---- what the kernel entry code looks like
kt_helper:
	pushl $0
	movl %edx, %eax
	push %edx
	call *%ebx
	push %eax
	call do_exit
	ud2
rf_ret_from_fork:
	pushl %eax
	call schedule_tail
	popl %eax
	pushl $0x0202
	popfl
	jmp syscall_exit
rs_restore_all:
	popl %ebx
	popl %ecx
	popl %edx
	popl %esi
	popl %edi
	popl %ebp
	popl %eax
	popl %ds
	popl %es
	popl %fs
	popl %gs
	addl $4, %esp
	iret
sw_switch_to:
	pushfl
	pushl %ebp
	movl %esp, TASK_thread_sp(%eax)
	movl TASK_thread_sp(%edx), %esp
	movl $1f, TASK_thread_ip(%eax)
	pushl TASK_thread_ip(%edx)
	jmp __switch_to
	1: popl %ebp
	popfl
	ret
sv_save_all:
	cld
	pushl %gs
	pushl %fs
	pushl %es
	pushl %ds
	pushl %eax
	pushl %ebp
	pushl %edi
	pushl %esi
	pushl %edx
	pushl %ecx
	pushl %ebx
	movl $(__USER_DS), %edx
	movl %edx, %ds
	movl %edx, %es
	movl $(__KERNEL_PERCPU), %edx
	movl %edx, %fs
	movl $(__KERNEL_STACK_CANARY), %edx
	movl %edx, %gs
	movl PT_EAX(%esp), %eax
	movl %fs:per_cpu__current_task, %ebx
	testl $_TIF_WORK_MASK, TI_flags(%ebp)
	jne syscall_exit
	movl %esp, %ebp
	andl $-THREAD_SIZE, %ebp
	ret

## ---- late-resolved 8-bit values keep the imm8 form GNU as uses with a relocation
lt_a: shll $(lt_c-lt_b), %eax
	int $(lt_d-lt_b)
	movb $(lt_c-lt_b), %al
	testb $(lt_d-lt_b), (%eax)
	lt_b: nop
	lt_c: nop
	nop
	nop
	lt_d: nop

## ---- '/' first on a line is a comment
nop
	/ a GNU as i386 line comment
	nop

## ---- an external symbol minus a label: pc-relative in GNU as, full-width field
pcrel_a: movl $do_exit-pcrel_a, %eax
pcrel_b: pushl $schedule-pcrel_b
pcrel_c: .long do_exit-pcrel_c, schedule-.
.set pcrel_k, 7
	pcrel_d: pushl $pcrel_k-pcrel_d

## ---- conditionals and .purgem, evaluated while reading
.set cond_k, 3
	.if cond_k > 2
	movl $1, %eax
	.else
	movl $2, %eax
	.endif
	.ifdef cond_k
	incl %eax
	.endif
	.ifndef cond_nothing
	decl %ebx
	.if 0
	.bogus directive never parsed
	.elseif cond_k == 3
	notl %ecx
	.else
	negl %ecx
	.endif
	.endif
	.ifeq cond_k - 3
	nop
	.endif
	.iflt cond_k - 4
	cld
	.endif
.macro cond_m a, b
	.ifb \b
	pushl \a
	.else
	addl \a, \b
	.endif
	.ifc \a,%eax
	std
	.endif
	.endm
	cond_m %eax
	cond_m %ecx, %edx
	.purgem cond_m
	.macro cond_m
	hlt
	.endm
	cond_m
