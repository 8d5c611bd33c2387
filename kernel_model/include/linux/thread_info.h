/* include/linux/thread_info.h */
#ifndef _LINUX_THREAD_INFO_H
#define _LINUX_THREAD_INFO_H
#include <asm/thread_info.h>
#endif
