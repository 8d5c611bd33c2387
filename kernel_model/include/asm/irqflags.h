/* arch/x86/include/asm/irqflags.h: EFLAGS.IF through pushfl/popfl, cli, sti. */
#ifndef _ASM_X86_IRQFLAGS_H
#define _ASM_X86_IRQFLAGS_H
#include <linux/types.h>

static inline unsigned long native_save_fl(void)
{
	unsigned long flags;
	__asm__ __volatile__("pushfl ; popl %0" : "=rm" (flags) : : "memory");
	return flags;
}

static inline void native_restore_fl(unsigned long flags)
{
	__asm__ __volatile__("pushl %0 ; popfl" : : "g" (flags) : "memory", "cc");
}

#define raw_local_irq_disable()	__asm__ __volatile__("cli" : : : "memory")
#define raw_local_irq_enable()	__asm__ __volatile__("sti" : : : "memory")
#define local_irq_disable()	raw_local_irq_disable()
#define local_irq_enable()	raw_local_irq_enable()
#define local_save_flags(flags)	do { (flags) = native_save_fl(); } while (0)
#define local_irq_save(flags)	do { (flags) = native_save_fl(); local_irq_disable(); } while (0)
#define local_irq_restore(flags) native_restore_fl(flags)
#define irqs_disabled()		(!(native_save_fl() & X86_EFLAGS_IF))
#endif
