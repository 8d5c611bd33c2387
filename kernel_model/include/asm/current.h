/* arch/x86/include/asm/current.h: current is this CPU's per-CPU current_task,
 * one load through %fs. */
#ifndef _ASM_X86_CURRENT_H
#define _ASM_X86_CURRENT_H
#include <asm/percpu.h>

static __always_inline struct task_struct *get_current(void)
{
	return percpu_read_stable(current_task);
}

#define current get_current()
#endif
