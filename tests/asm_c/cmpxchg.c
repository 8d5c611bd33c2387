int cas(volatile int *p, int old, int new_) {
    int prev;
    __asm__ __volatile__("lock cmpxchgl %2, %1" : "=a"(prev), "+m"(*p) : "r"(new_), "0"(old) : "memory");
    return prev;
}
int atomic_inc(volatile int *p) { return __sync_add_and_fetch(p, 1); }
