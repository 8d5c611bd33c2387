/* include/linux/compiler.h and compiler-gcc.h, the parts thread code meets. */
#ifndef _LINUX_COMPILER_H
#define _LINUX_COMPILER_H
#define barrier()		__asm__ __volatile__("" : : : "memory")
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define __always_inline		inline __attribute__((always_inline))
#define noinline		__attribute__((noinline))
#define __used			__attribute__((__used__))
#define __maybe_unused		__attribute__((unused))
#define __aligned(x)		__attribute__((aligned(x)))
#define __packed		__attribute__((packed))
#define __attribute_const__	__attribute__((__const__))
#define ACCESS_ONCE(x)		(*(volatile typeof(x) *)&(x))
#define asmlinkage		__attribute__((regparm(0)))
#define NORET_TYPE
#define ATTRIB_NORET		__attribute__((noreturn))
#define __user
#define __kernel
#define __iomem
#define __force
#define __must_check		__attribute__((warn_unused_result))
#endif
