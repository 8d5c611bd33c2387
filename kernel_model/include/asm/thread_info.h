/* arch/x86/include/asm/thread_info.h: thread_info sits at the bottom of the
 * THREAD_SIZE-aligned kernel stack. */
#ifndef _ASM_X86_THREAD_INFO_H
#define _ASM_X86_THREAD_INFO_H
#include <linux/types.h>

static inline struct thread_info *current_thread_info(void)
{
	unsigned long sp;
	__asm__("movl %%esp, %0" : "=r" (sp));
	return (struct thread_info *)(sp & ~(THREAD_SIZE - 1));
}

#define test_ti_thread_flag(ti, flag)	(((ti)->flags >> (flag)) & 1)
#define test_thread_flag(flag)		test_ti_thread_flag(current_thread_info(), flag)
#endif
