/* include/linux/smp.h, arch/x86/include/asm/smp.h: this CPU's number is the
 * per-CPU cpu_number, read through %fs. */
#ifndef __LINUX_SMP_H
#define __LINUX_SMP_H
#include <linux/percpu.h>
#define raw_smp_processor_id()	(percpu_read(cpu_number))
#define smp_processor_id()	raw_smp_processor_id()
#define get_cpu()		({ preempt_disable(); smp_processor_id(); })
#define put_cpu()		preempt_enable()
#endif
