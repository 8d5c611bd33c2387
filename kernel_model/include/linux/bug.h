/* include/linux/bug.h, arch/x86/include/asm/bug.h.  Deviation: BUG() is the ud2
 * alone, without the __bug_table entry (the oops names the C line from the
 * DWARF instead of "kernel BUG at file:line"). */
#ifndef _LINUX_BUG_H
#define _LINUX_BUG_H
#include <linux/compiler.h>
#define BUG()		do { __asm__ __volatile__("ud2"); __builtin_unreachable(); } while (0)
#define BUG_ON(condition) do { if (unlikely(condition)) BUG(); } while (0)
#define BUILD_BUG_ON(condition) ((void)sizeof(char[1 - 2 * !!(condition)]))
#endif
