/* include/linux/spinlock.h (CONFIG_SMP, no lock debugging): the lock is taken by
 * the kernel's _spin_lock (asm/entry_32.S), the irq variants inlined as
 * spinlock_api_smp.h's __spin_lock_irq ... are. */
#ifndef __LINUX_SPINLOCK_H
#define __LINUX_SPINLOCK_H
#include <linux/types.h>
#include <asm/irqflags.h>

#define __SPIN_LOCK_UNLOCKED(lockname)	{ .slock = 0 }
#define DEFINE_SPINLOCK(x)		spinlock_t x = __SPIN_LOCK_UNLOCKED(x)
#define spin_lock_init(lock)		do { (lock)->slock = 0; } while (0)
#define spin_is_locked(lock)		(ACCESS_ONCE((lock)->slock) != 0)

void _spin_lock(spinlock_t *lock);
void _spin_unlock(spinlock_t *lock);

#define spin_lock(lock)		_spin_lock(lock)
#define spin_unlock(lock)	_spin_unlock(lock)
#define spin_lock_irq(lock)	do { local_irq_disable(); _spin_lock(lock); } while (0)
#define spin_unlock_irq(lock)	do { _spin_unlock(lock); local_irq_enable(); } while (0)
#define spin_lock_irqsave(lock, flags)					\
	do { local_irq_save(flags); _spin_lock(lock); } while (0)
#define spin_unlock_irqrestore(lock, flags)				\
	do { _spin_unlock(lock); local_irq_restore(flags); } while (0)
#endif
