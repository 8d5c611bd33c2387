/* include/linux/types.h: the integer typedefs and the model's structs, which
 * kthreadd-emu generates from its kernel model (kthreadd-emu/generated.h). */
#ifndef _LINUX_TYPES_H
#define _LINUX_TYPES_H
#include <linux/stddef.h>
#include <kthreadd-emu/generated.h>
typedef unsigned long uintptr_t;
typedef long ssize_t;
typedef long long loff_t;
#endif
