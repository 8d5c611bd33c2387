/* include/linux/percpu.h (CONFIG_SMP).  A loaded file cannot define per-CPU
 * variables of its own (the per-CPU area is the kernel's): DEFINE_PER_CPU is
 * refused when the file is loaded, naming the variable. */
#ifndef __LINUX_PERCPU_H
#define __LINUX_PERCPU_H
#include <linux/preempt.h>
#include <asm/percpu.h>

#define DECLARE_PER_CPU(type, name)	extern __typeof__(type) per_cpu__##name
#define DEFINE_PER_CPU(type, name)					\
	__attribute__((__section__(".data.percpu"))) __typeof__(type) per_cpu__##name

#define RELOC_HIDE(ptr, off)						\
({									\
	unsigned long __ptr;						\
	__asm__("" : "=r" (__ptr) : "0" (ptr));				\
	(typeof(ptr)) (__ptr + (off));					\
})
#define SHIFT_PERCPU_PTR(__p, __offset)	RELOC_HIDE((__p), (__offset))
#define per_cpu_offset(x)		(__per_cpu_offset[x])
#define per_cpu(var, cpu)						\
	(*SHIFT_PERCPU_PTR(&per_cpu_var(var), per_cpu_offset(cpu)))
#define __get_cpu_var(var)						\
	(*SHIFT_PERCPU_PTR(&per_cpu_var(var), __my_cpu_offset))
#define get_cpu_var(var)	(*({ preempt_disable(); &__get_cpu_var(var); }))
#define put_cpu_var(var)	preempt_enable()
#endif
