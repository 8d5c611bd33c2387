"""RCU as far as exit needs it (kernel/rcutree.c, 2.6.32): call_rcu() runs its
callback after a grace period, once every CPU has passed a quiescent state.

A quiescent state is a pass through schedule() (rcu_sched_qs) or idleness:
an idle CPU is in an extended quiescent state (dynticks idle), so the grace
period waits only for the CPUs that were busy when call_rcu() was made, the
caller's among them.  A CPU that loops in the kernel without scheduling holds
every grace period up, as on Linux.

Deviation: the callbacks of a grace period run on the CPU whose quiescent
state ended it, as soon as that CPU has finished its context switch (or
before it idles); 2.6.32 runs them from the RCU softirq of the CPU that
queued them, at a timer tick (there is no tick here).
"""


def call_rcu(kern, func, arg: int) -> None:
    """Run ``func(kern, arg)`` after a grace period."""
    busy = ~kern.runtime.idle_mask & ((1 << len(kern.rq)) - 1)
    kern.rcu_pending.append((busy | 1 << kern.this_cpu, func, arg))


def rcu_sched_qs(kern, cpu: int) -> None:
    """CPU ``cpu`` passes a quiescent state: the grace periods it ends are over."""
    if not kern.rcu_pending:
        return
    bit = 1 << cpu
    waiting = [(mask & ~bit, func, arg) for mask, func, arg in kern.rcu_pending]
    kern.rcu_pending = [entry for entry in waiting if entry[0]]
    kern.rcu_done += [(func, arg) for mask, func, arg in waiting if not mask]


def rcu_process_callbacks(kern) -> None:
    """Invoke the callbacks whose grace period is over."""
    while kern.rcu_done:
        func, arg = kern.rcu_done.pop(0)
        func(kern, arg)
