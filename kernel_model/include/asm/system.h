/* arch/x86/include/asm/system.h and cmpxchg_32.h: barriers and xchg. */
#ifndef _ASM_X86_SYSTEM_H
#define _ASM_X86_SYSTEM_H
#include <linux/compiler.h>
#define mb()		__asm__ __volatile__("lock; addl $0,0(%%esp)" : : : "memory")
#define rmb()		mb()
#define wmb()		mb()
#define smp_mb()	mb()
#define smp_rmb()	barrier()
#define smp_wmb()	barrier()

static inline unsigned long __xchg(unsigned long x, volatile void *ptr)
{
	__asm__ __volatile__("xchgl %0,%1"
			     : "=r" (x), "+m" (*(volatile unsigned long *)ptr)
			     : "0" (x)
			     : "memory");
	return x;
}
#define xchg(ptr, v)	((__typeof__(*(ptr)))__xchg((unsigned long)(v), (ptr)))
#define set_mb(var, value) do { (void)xchg(&var, value); } while (0)
#endif
