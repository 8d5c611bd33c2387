/* include/linux/slab.h, include/linux/gfp.h: kmalloc and kfree (the model's
 * allocator: kernel_model/slab.py). */
#ifndef _LINUX_SLAB_H
#define _LINUX_SLAB_H
#include <linux/types.h>

#define __GFP_WAIT	((gfp_t)0x10u)
#define __GFP_HIGH	((gfp_t)0x20u)
#define __GFP_IO	((gfp_t)0x40u)
#define __GFP_FS	((gfp_t)0x80u)
#define __GFP_ZERO	((gfp_t)0x8000u)
#define GFP_ATOMIC	(__GFP_HIGH)
#define GFP_NOIO	(__GFP_WAIT)
#define GFP_NOFS	(__GFP_WAIT | __GFP_IO)
#define GFP_KERNEL	(__GFP_WAIT | __GFP_IO | __GFP_FS)

#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)

void *__kmalloc(size_t size, gfp_t flags);
void kfree(const void *objp);

static __always_inline void *kmalloc(size_t size, gfp_t flags)
{
	return __kmalloc(size, flags);
}

static inline void *kzalloc(size_t size, gfp_t flags)
{
	return kmalloc(size, flags | __GFP_ZERO);
}
#endif
