# A store into data that sits in the text region keeps its flags: the
# coherence of code and data (emu/privileged.py) restarts only after a store
# into code still ahead in the running block.
#@ test lock_decl_to_zero_does_not_take_js
#@ run bare down
#@ expect exit == 0
#@ test lock_decl_below_zero_takes_js
#@ run bare down2
#@ expect exit == 1

	.text
down:	lock decl sem
	js 2f
1:	movl sem, %eax
	ret
	.section .text.lock,"ax"
2:	movl $99, %eax
	ret
	.previous
down2:	lock decl sem
	lock decl sem
	js 3f
	movl $5, %eax
	ret
3:	movl $1, %eax
	ret
	.data
sem:	.long 1

#@ test counter_once
#@ run bare bump
#@ expect [counter] == 1
#@ expect exit == 1
#@ test counter_again
#@ run bare bump
#@ expect [counter] == 1
#@ test flags_after_a_store_nearby
#@ run bare dec_sign
#@ expect exit == 7

bump:	incl counter
	movl counter, %eax
	ret
dec_sign:
	movl $0, count2
	lock decl count2
	js 1f
	movl $3, %eax
	ret
1:	movl $7, %eax
	ret
counter: .long 0
count2:	.long 0
