/* arch/x86/include/asm/percpu.h (CONFIG_SMP, i386): per-CPU data is reached
 * through %fs, whose base is this CPU's __per_cpu_offset; per_cpu__NAME is the
 * variable's address in the per-CPU template. */
#ifndef _ASM_X86_PERCPU_H
#define _ASM_X86_PERCPU_H
#include <linux/stringify.h>
#include <linux/types.h>

#define __percpu_seg		fs
#define __percpu_arg(x)		"%%" __stringify(__percpu_seg) ":%P" #x
#define per_cpu_var(var)	per_cpu__##var
#define __my_cpu_offset		percpu_read(this_cpu_off)

extern void __bad_percpu_size(void);

#define percpu_to_op(op, var, val)				\
do {								\
	typedef typeof(var) T__;				\
	switch (sizeof(var)) {					\
	case 1:							\
		asm(op "b %1," __percpu_arg(0)			\
		    : "+m" (var) : "qi" ((T__)(val)));		\
		break;						\
	case 2:							\
		asm(op "w %1," __percpu_arg(0)			\
		    : "+m" (var) : "ri" ((T__)(val)));		\
		break;						\
	case 4:							\
		asm(op "l %1," __percpu_arg(0)			\
		    : "+m" (var) : "ri" ((T__)(val)));		\
		break;						\
	default: __bad_percpu_size();				\
	}							\
} while (0)

#define percpu_from_op(op, var, constraint)			\
({								\
	typeof(var) ret__;					\
	switch (sizeof(var)) {					\
	case 1:							\
		asm(op "b " __percpu_arg(1) ",%0"		\
		    : "=q" (ret__) : constraint);		\
		break;						\
	case 2:							\
		asm(op "w " __percpu_arg(1) ",%0"		\
		    : "=r" (ret__) : constraint);		\
		break;						\
	case 4:							\
		asm(op "l " __percpu_arg(1) ",%0"		\
		    : "=r" (ret__) : constraint);		\
		break;						\
	default: __bad_percpu_size();				\
	}							\
	ret__;							\
})

#define percpu_read(var)	percpu_from_op("mov", per_cpu__##var, "m" (per_cpu__##var))
#define percpu_read_stable(var)	percpu_from_op("mov", per_cpu__##var, "p" (&per_cpu__##var))
#define percpu_write(var, val)	percpu_to_op("mov", per_cpu__##var, val)
#define percpu_add(var, val)	percpu_to_op("add", per_cpu__##var, val)
#define percpu_sub(var, val)	percpu_to_op("sub", per_cpu__##var, val)
#endif
