/* include/linux/preempt.h, CONFIG_PREEMPT_NONE: nothing to disable. */
#ifndef __LINUX_PREEMPT_H
#define __LINUX_PREEMPT_H
#include <linux/compiler.h>
#define preempt_disable()		barrier()
#define preempt_enable()		barrier()
#define preempt_enable_no_resched()	barrier()
#endif
