"""The scheduler: run queues, schedule(), wake-ups and where tasks go (mirrors
kernel/sched.c, kernel/sched_fair.c and kernel/sched_rt.c, 2.6.32).

Deviation: each CPU's run queue is a FIFO of runnable tasks kept in
Python (not CFS's red-black tree), so runs are deterministic; the
kernel has no preemption (CONFIG_PREEMPT_NONE), so a task runs until it
blocks or calls schedule().  The context switch itself is guest code:
schedule() calls the assembled switch_to (asm/entry_32.S), with the CPU's
interrupt flag clear as under spin_lock_irq(&rq->lock).

Placement is select_task_rq_fair()'s.  Until sched_init_smp() builds the
scheduling domains, rq->sd is NULL: a forked task stays on the forking CPU
and a woken one on its own.  From then on one domain spans the CPUs
(SD_CPU_INIT, one CPU per group, as on single-core packages): a fork goes
to the least loaded CPU (find_idlest_group), and a wake-up stays on the
task's CPU unless wake_affine() pulls it to the waker's.  The load of a CPU
is rq->load.weight: the prio_to_weight of the CFS tasks runnable there.
"""

from collections import deque
from dataclasses import dataclass

from kernel_model.consts import (
    _TIF_NEED_RESCHED,
    EINVAL,
    MAX_RT_PRIO,
    NICE_0_PRIO,
    PF_THREAD_BOUND,
    SCHED_FIFO,
    SD_BALANCE_EXEC,
    SD_BALANCE_FORK,
    SD_BALANCE_NEWIDLE,
    SD_BALANCE_WAKE,
    SD_LOAD_BALANCE,
    SD_WAKE_AFFINE,
    TASK_ALL,
    TASK_DEAD,
    TASK_RUNNING,
    TASK_UNINTERRUPTIBLE,
)
from kernel_model.cpu import cpu_online_mask
from kernel_model.headers import migration_req, task_struct, thread_info
from kernel_model.irqflags import local_irq_disable, local_irq_enable
from kernel_model.rcupdate import rcu_process_callbacks, rcu_sched_qs
from kernel_model.runtime import IDLE, RELAX, CallGuest, guest_callable, might_sleep
from kernel_model.task import put_task_struct

# kernel/sched.c: the CFS weight of each nice level, -20 .. 19.
prio_to_weight = (
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
    9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
    1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
    110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
)  # fmt: skip


@dataclass(frozen=True)
class sched_domain:
    """The one domain level of this machine (include/linux/topology.h SD_CPU_INIT)."""

    span: int  # the CPUs, as a mask
    flags: int = (
        SD_LOAD_BALANCE | SD_BALANCE_NEWIDLE | SD_BALANCE_EXEC | SD_BALANCE_FORK | SD_WAKE_AFFINE
    )
    imbalance_pct: int = 125


class rq:
    """struct rq: what this CPU may run next, besides its current task."""

    def __init__(self, cpu: int):
        self.cpu = cpu
        self.queue: deque[int] = deque()
        self.idle = 0
        self.nr_switches = 0
        self.sd: sched_domain | None = None  # none until sched_init_smp()
        self.migration_thread = 0
        self.migration_queue: deque[int] = deque()  # migration_req addresses
        # The tasks on this run queue (queued, running, or being switched to) and
        # rq->load.weight, their CFS load.
        self.nr_running = self.load = 0

    def save(self) -> tuple:
        return (list(self.queue), self.idle, self.nr_switches, self.sd, self.migration_thread,
                list(self.migration_queue), self.nr_running, self.load)  # fmt: skip

    def restore(self, saved: tuple) -> None:
        queue, self.idle, self.nr_switches, self.sd, self.migration_thread, mq = saved[:6]
        self.queue, self.migration_queue = deque(queue), deque(mq)
        self.nr_running, self.load = saved[6:]


def current(kern):
    """get_current(): this CPU's per-CPU current_task."""
    return kern.runtime.current(kern.this_cpu)


def task_thread_info(kern, p):
    return thread_info(kern.mem, p.stack)


def task_cpu(kern, p) -> int:
    return task_thread_info(kern, p).cpu


def __set_task_cpu(kern, p, cpu: int) -> None:
    task_thread_info(kern, p).cpu = cpu


def set_task_cpu(kern, p, new_cpu: int) -> None:
    """Move ``p`` (not queued) to ``new_cpu``: at fork, on a wake-up elsewhere."""
    kern.tracepoint("sched_migrate_task", p=p, dest_cpu=new_cpu)
    __set_task_cpu(kern, p, new_cpu)


def clear_tsk_need_resched(kern, p) -> None:
    task_thread_info(kern, p).flags &= ~_TIF_NEED_RESCHED


def set_current_state(kern, state: int) -> None:
    current(kern).state = state


__set_current_state = set_current_state


def cpu_all_mask(kern) -> int:
    return (1 << len(kern.rq)) - 1


def _first_cpu(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def rt_task(p) -> bool:
    return p.prio < MAX_RT_PRIO


# -- load and placement -----------------------------------------------------------


def task_weight(p) -> int:
    """p->se.load.weight (set_load_weight): by nice level."""
    return prio_to_weight[p.static_prio - MAX_RT_PRIO]


def cfs_load(p) -> int:
    """What ``p`` adds to rq->load: only CFS tasks count (sched_fair.c's inc_cpu_load)."""
    return 0 if rt_task(p) else task_weight(p)


def cpu_loads(kern) -> list[tuple[int, int]]:
    """(rq->load.weight, rq->nr_running) of every CPU."""
    return [(q.load, q.nr_running) for q in kern.rq]


def cpu_avg_load_per_task(load: tuple[int, int]) -> int:
    weight, nr_running = load
    return weight // nr_running if nr_running else 0


def _imbalance(sd: sched_domain) -> int:
    return 100 + (sd.imbalance_pct - 100) // 2


def wake_affine(kern, sd: sched_domain, p) -> bool:
    """Pull ``p`` to the waker's CPU?  Only when the two loads allow it (wake_idx 0:
    the loads as they are now).  No wake-up here is a sync one (WF_SYNC; the
    SYNC_MORE feature that could make one is off)."""
    loads = cpu_loads(kern)
    this = loads[kern.this_cpu]
    load, this_load = loads[task_cpu(kern, p)][0], this[0]
    balanced = not this_load or 100 * (this_load + task_weight(p)) <= _imbalance(sd) * load
    if balanced:
        return True
    return this_load <= load and this_load + load <= cpu_avg_load_per_task(this)


def find_idlest_group(kern, sd: sched_domain, p, this_cpu: int) -> int | None:
    """The least loaded other CPU ``p`` may use, if it is enough less loaded than
    ours (groups are single CPUs, walked from ours round the ring)."""
    loads, ncpus, allowed = cpu_loads(kern), len(kern.rq), sd.span & p.cpus_allowed
    idlest, min_load, this_load = None, None, 0
    for cpu in ((this_cpu + i) % ncpus for i in range(ncpus)):
        if not allowed >> cpu & 1:
            continue
        load = loads[cpu][0]  # source_load/target_load of index 0
        if cpu == this_cpu:
            this_load = load
        elif min_load is None or load < min_load:
            idlest, min_load = cpu, load
    if idlest is None or 100 * this_load < _imbalance(sd) * min_load:
        return None
    return idlest


def select_task_rq_fair(kern, p, sd_flag: int) -> int:
    cpu, prev_cpu = kern.this_cpu, task_cpu(kern, p)
    new_cpu, want_affine = cpu, False
    if sd_flag & SD_BALANCE_WAKE:
        want_affine = bool(p.cpus_allowed >> cpu & 1)  # AFFINE_WAKEUPS
        new_cpu = prev_cpu
    sd = kern.rq[cpu].sd
    if sd is None:  # no domains yet: nothing to balance over
        return new_cpu
    affine = want_affine and sd.flags & SD_WAKE_AFFINE and sd.span >> prev_cpu & 1
    if affine and prev_cpu != cpu and wake_affine(kern, sd, p):
        return cpu
    if sd.flags & sd_flag:
        idlest = find_idlest_group(kern, sd, p, cpu)
        if idlest is not None:
            new_cpu = idlest  # find_idlest_cpu of a one-CPU group
    return new_cpu


def select_task_rq_rt(kern, p, sd_flag: int) -> int:
    """A fork stays here; a woken RT task stays on its CPU.  Deviation:
    find_lowest_rq() (an unbound RT task woken where an RT task runs) is left
    out: every RT task of this machine is bound."""
    if sd_flag != SD_BALANCE_WAKE:
        return kern.this_cpu
    return task_cpu(kern, p)


def select_fallback_rq(kern, cpu: int, p) -> int:
    """RHEL 6: an allowed, online CPU for a task that cannot stay on ``cpu``
    (one memory node: the node's CPUs are all of them)."""
    allowed = p.cpus_allowed & cpu_online_mask(kern)
    if allowed:
        return _first_cpu(allowed)
    p.cpus_allowed = cpu_all_mask(kern)  # cpuset_cpus_allowed_fallback()
    return _first_cpu(cpu_online_mask(kern))


def select_task_rq(kern, p, sd_flag: int) -> int:
    """p->sched_class->select_task_rq(); RHEL 6 wraps it (as 2.6.33 does) to fall
    back to an allowed online CPU, which vanilla 2.6.32 never needs."""
    pick = select_task_rq_rt if rt_task(p) else select_task_rq_fair
    cpu = pick(kern, p, sd_flag)
    if kern.profile == "rhel6" and not (p.cpus_allowed & cpu_online_mask(kern)) >> cpu & 1:
        cpu = select_fallback_rq(kern, task_cpu(kern, p), p)
    return cpu


def sched_init_smp(kern) -> None:
    """Build the scheduling domains over the online CPUs (arch_init_sched_domains)."""
    online = cpu_online_mask(kern)
    for q in kern.rq:
        if online >> q.cpu & 1:
            q.sd = sched_domain(span=online)


# -- waiting for a task, binding, moving -------------------------------------------


def task_running(kern, p) -> bool:
    """Is ``p`` the current task of its CPU (the only one it can be current on)?"""
    return kern.current(task_cpu(kern, p)).addr == p.addr


@might_sleep
def wait_task_inactive(kern, p, match_state: int):
    """Wait until ``p`` is off its CPU and off the run queue; returns its switch
    count with the top bit set (never 0), or 0 if it left ``match_state``.

    A task that has just done complete() is still current on its CPU until
    its switch_to: spin (cpu_relax) while the other CPUs run it there.
    Deviation: where 2.6.32 sleeps a jiffy for a queued task there is no
    timer, so it spins then too."""
    while True:
        while task_running(kern, p):
            if match_state and p.state != match_state:
                return 0
            yield RELAX
        kern.tracepoint("sched_wait_task", p=p)
        running, on_rq = task_running(kern, p), p.addr in kern.on_rq
        if match_state and p.state != match_state:
            return 0
        if not running and not on_rq:
            return p.nvcsw | 1 << 31
        yield RELAX


class KthreadError(Exception):
    """A misuse of the kthread API the kernel would WARN about or crash on; one line."""


@might_sleep
def kthread_bind(kern, p, cpu: int):
    """Bind a just-created kthread (parked in kthread()) to ``cpu``, which need
    not be online yet.  In 2.6.32 this lives here: it messes with scheduler
    internals.  RHEL 6's leaves the task where it is: it moves at its first
    wake-up (select_fallback_rq)."""
    if not 0 <= cpu < len(kern.rq):
        raise KthreadError(
            f"kthread_bind: CPU {cpu} does not exist (this machine has {len(kern.rq)})"
        )
    # Must have done schedule() in kthread() before we set_task_cpu.
    if not (yield from wait_task_inactive(kern, p, TASK_UNINTERRUPTIBLE)):
        kern.warn("kernel/sched.c", "kthread_bind", f"task {p.pid} is not parked")
        return
    if kern.profile == "vanilla":
        set_task_cpu(kern, p, cpu)
    p.cpus_allowed = 1 << cpu
    p.flags |= PF_THREAD_BOUND


def migrate_task(kern, p, dest_cpu: int, req) -> bool:
    """Move a task that is neither queued nor running at once (RHEL 6: at its next
    wake-up); else queue ``req`` for its CPU's migration thread (True)."""
    if p.addr not in kern.on_rq and not task_running(kern, p):
        if kern.profile == "vanilla":
            set_task_cpu(kern, p, dest_cpu)
        return False
    from kernel_model.completion import init_completion  # sched.c has both

    init_completion(kern, req.done)
    req.task, req.dest_cpu = p.addr, dest_cpu
    kern.rq[task_cpu(kern, p)].migration_queue.appendleft(req.addr)  # list_add
    return True


@might_sleep
def set_cpus_allowed_ptr(kern, p, new_mask: int):
    """Restrict ``p`` to ``new_mask`` (which must hold an online CPU); returns 0 or
    -EINVAL.  A queued or running task that may no longer stay where it is goes
    through its CPU's migration thread, and we wait for it."""
    from kernel_model.completion import wait_for_completion  # sched.c has both

    mask = new_mask & cpu_all_mask(kern)
    if not mask & cpu_online_mask(kern):
        return -EINVAL
    if p.flags & PF_THREAD_BOUND and p.addr != current(kern).addr and p.cpus_allowed != mask:
        return -EINVAL
    p.cpus_allowed = mask
    # Can the task run on the task's current CPU?  If so, we're done.
    if mask >> task_cpu(kern, p) & 1:
        return 0
    q = kern.rq[task_cpu(kern, p)]
    with kern.runtime.stack_local(migration_req) as req:
        if migrate_task(kern, p, _first_cpu(mask & cpu_online_mask(kern)), req):
            # Need help from migration thread: drop lock and wait.
            wake_up_process(kern, task_struct(kern.mem, q.migration_thread))
            yield from wait_for_completion(kern, req.done)
    return 0


def __migrate_task(kern, p, src_cpu: int, dest_cpu: int) -> int:
    """The migration thread's move of ``p`` from ``src_cpu``; 1 if it is done."""
    if not cpu_online_mask(kern) >> dest_cpu & 1:
        return 0
    if task_cpu(kern, p) != src_cpu:
        return 1  # already moved
    if not p.cpus_allowed >> dest_cpu & 1:
        return 0  # affinity changed (again)
    on_rq = p.addr in kern.on_rq
    if on_rq:
        deactivate_task(kern, p, src_cpu)
    set_task_cpu(kern, p, dest_cpu)
    if on_rq:
        activate_task(kern, p, dest_cpu)
    return 1


def migration_queue_next(kern, cpu: int):
    """The next request of ``cpu``'s migration queue (a view), or None."""
    q = kern.rq[cpu]
    return migration_req(kern.mem, q.migration_queue.popleft()) if q.migration_queue else None


# -- priorities ----------------------------------------------------------------------


def _reweigh(kern, p, change) -> None:
    """Apply ``change`` to ``p``; a queued task leaves its rq's load and comes back."""
    queued = p.addr in kern.on_rq
    if queued:
        kern.rq[task_cpu(kern, p)].load -= cfs_load(p)
    change()
    if queued:
        kern.rq[task_cpu(kern, p)].load += cfs_load(p)


def sched_setscheduler_nocheck(kern, p, policy: int, priority: int) -> None:
    def change():
        p.policy, p.rt_priority = policy, priority
        rt = policy == SCHED_FIFO
        p.normal_prio = p.prio = MAX_RT_PRIO - 1 - priority if rt else p.static_prio

    _reweigh(kern, p, change)


def set_user_nice(kern, p, nice: int) -> None:
    def change():
        p.static_prio = NICE_0_PRIO + nice
        if p.policy != SCHED_FIFO:
            p.normal_prio = p.prio = p.static_prio

    _reweigh(kern, p, change)


def task_nice(p) -> int:
    return p.static_prio - NICE_0_PRIO


# -- queueing and waking -------------------------------------------------------------


def activate_task(kern, p, cpu: int) -> None:
    """Put ``p`` on ``cpu``'s run queue (its task_cpu), at the back."""
    q = kern.rq[cpu]
    kern.on_rq.add(p.addr)
    q.nr_running += 1
    q.load += cfs_load(p)
    q.queue.append(p.addr)
    kern.runtime.kick(cpu)


def dequeue_task(kern, p, cpu: int) -> None:
    """``p`` leaves ``cpu``'s run queue accounting (it sleeps, or moves)."""
    q = kern.rq[cpu]
    kern.on_rq.discard(p.addr)
    q.nr_running -= 1
    q.load -= cfs_load(p)


def deactivate_task(kern, p, cpu: int) -> None:
    """Take ``p``, queued and not running, off ``cpu``'s run queue."""
    dequeue_task(kern, p, cpu)
    kern.rq[cpu].queue.remove(p.addr)


def try_to_wake_up(kern, p, state: int) -> int:
    """Make ``p`` runnable if its state is in ``state``; 1 if it was put on a run
    queue, 0 if it was not asleep in ``state`` or was queued already."""
    if not p.state & state:
        return 0
    success = 0
    if p.addr not in kern.on_rq:
        cpu = orig_cpu = task_cpu(kern, p)
        # Still current on its CPU (between its schedule() and the switch): it
        # goes back on that CPU's queue.
        if not task_running(kern, p):
            cpu = select_task_rq(kern, p, SD_BALANCE_WAKE)
            if cpu != orig_cpu:
                set_task_cpu(kern, p, cpu)
        activate_task(kern, p, cpu)
        success = 1
    kern.tracepoint("sched_wakeup", p=p, success=success)
    p.state = TASK_RUNNING
    return success


def wake_up_process(kern, p) -> int:
    return try_to_wake_up(kern, p, TASK_ALL)


def sched_fork(kern, p, clone_flags: int) -> None:
    """New tasks start TASK_RUNNING (not yet queued).  Vanilla places the child now
    (select_task_rq, SD_BALANCE_FORK); RHEL 6 leaves it on this CPU until
    wake_up_new_task."""
    p.state = TASK_RUNNING
    p.prio = p.normal_prio
    rhel = kern.profile == "rhel6"
    set_task_cpu(kern, p, kern.this_cpu if rhel else select_task_rq(kern, p, SD_BALANCE_FORK))


def wake_up_new_task(kern, p, clone_flags: int) -> None:
    """Queue the new task (RHEL 6 does its fork balancing here)."""
    if kern.profile == "rhel6":
        set_task_cpu(kern, p, select_task_rq(kern, p, SD_BALANCE_FORK))
    activate_task(kern, p, task_cpu(kern, p))
    kern.tracepoint("sched_wakeup_new", p=p, success=1)


# -- schedule ------------------------------------------------------------------------


def pick_next_task(kern, q: rq) -> int:
    """The first queued task (a random one under a scheduling seed), else the idle task."""
    if not q.queue:
        return q.idle
    if kern.sched_rng is not None:
        q.queue.rotate(-kern.sched_rng.randrange(len(q.queue)))
    return q.queue.popleft()


@guest_callable()
@might_sleep
def schedule(kern):
    """Give the CPU to the next runnable task; returns when we run again."""
    q = kern.rq[kern.this_cpu]
    rcu_sched_qs(kern, kern.this_cpu)
    kern.runtime.touch_softlockup_watchdog(kern.this_cpu)  # the watchdog thread may run
    prev = current(kern)
    local_irq_disable(kern)  # spin_lock_irq(&rq->lock)
    clear_tsk_need_resched(kern, prev)
    if prev.state != TASK_RUNNING:
        if prev.addr in kern.on_rq:
            dequeue_task(kern, prev, q.cpu)
    elif prev.addr != q.idle:
        q.queue.append(prev.addr)  # still runnable: to the back of the queue
    nxt = task_struct(kern.mem, pick_next_task(kern, q))
    if nxt.addr == prev.addr:
        local_irq_enable(kern)  # spin_unlock_irq(&rq->lock)
        rcu_process_callbacks(kern)
        if prev.addr != q.idle:
            yield RELAX  # nothing else here: the other CPUs go on meanwhile
        elif prev.state != TASK_RUNNING:
            # Not in Linux, where the idle task never sleeps: the boot code of a
            # tool (walk's kernel_thread caller) runs as init_task and may wait.
            # With nothing to run the CPU halts until something is queued.
            yield IDLE
        return
    q.nr_switches += 1
    prev.nvcsw += 1
    kern.tracepoint("sched_switch", prev=prev, next=nxt)
    last = yield from context_switch(kern, prev, nxt)
    finish_task_switch(kern, task_struct(kern.mem, last))


@might_sleep
def context_switch(kern, prev, nxt):
    """switch_to(prev, next, last) runs on the CPU; returns ``last``."""
    return (yield CallGuest(kern.symbols["switch_to"], (prev.addr, nxt.addr)))


def finish_task_switch(kern, prev) -> None:
    """Unlock the run queue (interrupts back on for the task that now runs), then
    drop the reference a dead task held on itself, now that we are off its stack."""
    local_irq_enable(kern)  # finish_lock_switch(): spin_unlock_irq(&rq->lock)
    if prev.state == TASK_DEAD:
        put_task_struct(kern, prev)
    rcu_process_callbacks(kern)  # (the RCU softirq's work, see rcupdate.py)


@guest_callable(nargs=1, asmlinkage=True)
def schedule_tail(kern, prev):
    """First C code of a new task (called by ret_from_fork with prev on the stack)."""
    finish_task_switch(kern, task_struct(kern.mem, prev))


@might_sleep
def cpu_idle(kern):
    """The idle loop: sleep (hlt) until something is queued, then schedule.  An
    idle CPU is in a quiescent state for RCU."""
    while True:
        while not kern.rq[kern.this_cpu].queue:
            rcu_sched_qs(kern, kern.this_cpu)
            rcu_process_callbacks(kern)
            kern.runtime.touch_softlockup_watchdog(kern.this_cpu)
            yield IDLE
        yield from schedule(kern)
