/* asm-generic/errno-base.h: the values come from the model (generated.h). */
#ifndef _LINUX_ERRNO_H
#define _LINUX_ERRNO_H
#include <linux/types.h>
#define ERESTARTSYS	512
#endif
