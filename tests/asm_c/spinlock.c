void spin_lock(volatile int *l) { while (__sync_lock_test_and_set(l, 1)) while (*l) __asm__ __volatile__("pause"); }
void spin_unlock(volatile int *l) { __sync_lock_release(l); }
