"""Spinlocks on a lock word in emulated memory (include/linux/spinlock.h).

The guest side is asm/entry_32.S's _spin_lock/_spin_unlock (an xchg lock:
one atomic swap acquires, a plain store releases).  Python code takes the
same word with the same protocol; it never sleeps holding one (nor may
the kernel), so a lock held when Python asks for it can only be a bug.
"""


class SpinlockBug(Exception):
    pass


def spin_lock(kern, lock) -> None:
    if lock.slock:
        raise SpinlockBug(f"BUG: spinlock lockup on CPU#{kern.this_cpu}, lock {lock.addr:#010x}")
    lock.slock = 1


def spin_unlock(kern, lock) -> None:
    lock.slock = 0
