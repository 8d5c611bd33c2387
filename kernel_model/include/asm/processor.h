/* arch/x86/include/asm/processor.h: what thread code uses of it. */
#ifndef _ASM_X86_PROCESSOR_H
#define _ASM_X86_PROCESSOR_H
/* REP NOP (PAUSE) is a good thing to insert into busy-wait loops. */
static inline void rep_nop(void)
{
	__asm__ __volatile__("rep; nop" : : : "memory");
}
#define cpu_relax()	rep_nop()
#endif
