/* include/linux/init.h.  Deviation: there are no init sections (nothing is freed
 * after boot here), so __init and its kin mark nothing. */
#ifndef _LINUX_INIT_H
#define _LINUX_INIT_H
#define __init
#define __initdata
#define __exit
#define __exitdata
#define __devinit
#define __devexit
#endif
