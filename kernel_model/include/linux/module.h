/* include/linux/module.h: what a file written as a module says of itself; there
 * is no module loader here, so these record nothing. */
#ifndef _LINUX_MODULE_H
#define _LINUX_MODULE_H
#include <linux/init.h>
#include <linux/stringify.h>
#define MODULE_LICENSE(x)
#define MODULE_AUTHOR(x)
#define MODULE_DESCRIPTION(x)
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define THIS_MODULE ((void *)0)
#endif
