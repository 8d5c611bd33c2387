"""The scheduler: run queues, schedule(), wake-ups (mirrors kernel/sched.c, 2.6.32).

Deviation: each CPU's run queue is a FIFO of runnable tasks kept in
Python (not CFS's red-black tree), so runs are deterministic; the
kernel has no preemption (CONFIG_PREEMPT_NONE), so a task runs until it
blocks or calls schedule().  The context switch itself is guest code:
schedule() calls the assembled switch_to (asm/entry_32.S), with the CPU's
interrupt flag clear as under spin_lock_irq(&rq->lock).
"""

from collections import deque

from kernel_model.consts import (
    _TIF_NEED_RESCHED,
    EINVAL,
    MAX_RT_PRIO,
    NICE_0_PRIO,
    PF_THREAD_BOUND,
    SCHED_FIFO,
    SD_BALANCE_WAKE,
    TASK_DEAD,
    TASK_RUNNING,
    TASK_UNINTERRUPTIBLE,
)
from kernel_model.cpu import cpu_online_mask
from kernel_model.headers import task_struct, thread_info
from kernel_model.irqflags import local_irq_disable, local_irq_enable
from kernel_model.runtime import IDLE, RELAX, CallGuest, guest_callable
from kernel_model.task import put_task_struct


class rq:
    """struct rq: what this CPU may run next, besides its current task."""

    def __init__(self, cpu: int):
        self.cpu = cpu
        self.queue: deque[int] = deque()
        self.idle = 0
        self.nr_switches = 0


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


def select_task_rq(kern, p, sd_flag: int) -> int:
    """Where ``p`` goes, among the online CPUs it may use (select_task_rq_fair).

    A fork balances (SD_BALANCE_FORK): its own CPU if idle, else an idle one,
    else its own or the first.  A wake-up does not (2.6.32's domains lack
    SD_BALANCE_WAKE): the CPU it last ran on, if allowed.  Deviation:
    wake_affine()'s pull towards the waker's CPU, a load estimate, is left out.
    With a scheduling seed, a random CPU either way (idle ones first).  A task
    bound to a CPU not yet online stays where kthread_bind put it (it is woken
    once that CPU is up)."""
    allowed, cpu = p.cpus_allowed & cpu_online_mask(kern), task_cpu(kern, p)
    if not allowed:
        return cpu
    if allowed & (allowed - 1) == 0:
        return _first_cpu(allowed)
    idle = allowed & kern.runtime.idle_mask
    if kern.sched_rng is not None:
        pool = idle or allowed
        return kern.sched_rng.choice([c for c in range(len(kern.rq)) if pool >> c & 1])
    if allowed >> cpu & 1 and (sd_flag == SD_BALANCE_WAKE or idle >> cpu & 1 or not idle):
        return cpu
    return _first_cpu(idle or allowed)


def task_running(kern, p) -> bool:
    """Is ``p`` the current task of its CPU (the only one it can be current on)?"""
    return kern.current(task_cpu(kern, p)).addr == p.addr


def wait_task_inactive(kern, p, match_state: int):
    """Wait until ``p`` is off its CPU and off the run queue; returns its switch
    count with the top bit set (never 0), or 0 if it left ``match_state``.

    A task that has just done complete() is still current on its CPU until
    its switch_to: spin (cpu_relax) while the other CPUs run it there."""
    while task_running(kern, p) or p.addr in kern.on_rq:
        if match_state and p.state != match_state:
            return 0
        yield RELAX
    if match_state and p.state != match_state:
        return 0
    return p.nvcsw | 1 << 31


class KthreadError(Exception):
    """A misuse of the kthread API the kernel would WARN about or crash on; one line."""


def kthread_bind(kern, p, cpu: int):
    """Bind a just-created kthread (parked in kthread()) to ``cpu``, which need
    not be online yet.  In 2.6.32 this lives here: it messes with scheduler
    internals."""
    if not 0 <= cpu < len(kern.rq):
        raise KthreadError(
            f"kthread_bind: CPU {cpu} does not exist (this machine has {len(kern.rq)})"
        )
    # Must have done schedule() in kthread() before we set_task_cpu.
    if not (yield from wait_task_inactive(kern, p, TASK_UNINTERRUPTIBLE)):
        kern.warn("kernel/sched.c", "kthread_bind", f"task {p.pid} is not parked")
        return
    set_task_cpu(kern, p, cpu)
    p.cpus_allowed = 1 << cpu
    p.flags |= PF_THREAD_BOUND


def set_cpus_allowed_ptr(kern, p, new_mask: int) -> int:
    """Restrict ``p`` to ``new_mask`` (which must hold an online CPU); a queued
    task on a CPU it may no longer use moves."""
    mask = new_mask & cpu_all_mask(kern)
    if not mask & cpu_online_mask(kern):
        return -EINVAL
    p.cpus_allowed = mask
    q = kern.rq[task_cpu(kern, p)]  # a queued task waits on its own CPU's queue
    if not mask >> q.cpu & 1 and p.addr in q.queue:
        q.queue.remove(p.addr)
        cpu = select_task_rq(kern, p, SD_BALANCE_WAKE)
        set_task_cpu(kern, p, cpu)
        activate_task(kern, p, cpu)
    return 0


def sched_setscheduler_nocheck(kern, p, policy: int, priority: int) -> None:
    p.policy, p.rt_priority = policy, priority
    rt = policy == SCHED_FIFO
    p.normal_prio = p.prio = MAX_RT_PRIO - 1 - priority if rt else p.static_prio


def set_user_nice(kern, p, nice: int) -> None:
    p.static_prio = NICE_0_PRIO + nice
    if p.policy != SCHED_FIFO:
        p.normal_prio = p.prio = p.static_prio


def task_nice(p) -> int:
    return p.static_prio - NICE_0_PRIO


def activate_task(kern, p, cpu: int) -> None:
    """Queue ``p`` on ``cpu``'s run queue (its task_cpu)."""
    kern.on_rq.add(p.addr)
    kern.rq[cpu].queue.append(p.addr)
    kern.runtime.kick(cpu)


def try_to_wake_up(kern, p, state_mask: int) -> bool:
    """Make ``p`` runnable if its state is in ``state_mask``; True if it was woken."""
    if not p.state & state_mask:
        return False
    p.state = TASK_RUNNING
    success = p.addr not in kern.on_rq
    if success:
        orig_cpu, cpu = task_cpu(kern, p), select_task_rq(kern, p, SD_BALANCE_WAKE)
        if cpu != orig_cpu:
            set_task_cpu(kern, p, cpu)
        activate_task(kern, p, cpu)
    kern.tracepoint("sched_wakeup", p=p, success=int(success))
    return True


def wake_up_process(kern, p) -> bool:
    return try_to_wake_up(kern, p, 0x3 | 0xC)


def wake_up_new_task(kern, p, clone_flags: int) -> None:
    """Queue the new task where sched_fork() placed it."""
    activate_task(kern, p, task_cpu(kern, p))
    kern.tracepoint("sched_wakeup_new", p=p, success=1)


def pick_next_task(kern, q: rq) -> int:
    """The first queued task (a random one under a scheduling seed), else the idle task."""
    if not q.queue:
        return q.idle
    if kern.sched_rng is not None:
        q.queue.rotate(-kern.sched_rng.randrange(len(q.queue)))
    return q.queue.popleft()


@guest_callable()
def schedule(kern):
    """Give the CPU to the next runnable task; returns when we run again."""
    q = kern.rq[kern.this_cpu]
    prev = current(kern)
    local_irq_disable(kern)  # spin_lock_irq(&rq->lock)
    clear_tsk_need_resched(kern, prev)
    if prev.state != TASK_RUNNING:
        kern.on_rq.discard(prev.addr)
    elif prev.addr != q.idle:
        # Still runnable: to the back of the queue (of a CPU it may use).
        cpu = (
            q.cpu if prev.cpus_allowed >> q.cpu & 1 else select_task_rq(kern, prev, SD_BALANCE_WAKE)
        )
        if cpu != q.cpu:
            set_task_cpu(kern, prev, cpu)
        activate_task(kern, prev, cpu)
    nxt = task_struct(kern.mem, pick_next_task(kern, q))
    if nxt.addr == prev.addr:
        local_irq_enable(kern)  # spin_unlock_irq(&rq->lock)
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


def context_switch(kern, prev, nxt):
    """switch_to(prev, next, last) runs on the CPU; returns ``last``."""
    return (yield CallGuest(kern.symbols["switch_to"], (prev.addr, nxt.addr)))


def finish_task_switch(kern, prev) -> None:
    """Unlock the run queue (interrupts back on for the task that now runs), then
    drop the reference a dead task held on itself, now that we are off its stack."""
    local_irq_enable(kern)  # finish_lock_switch(): spin_unlock_irq(&rq->lock)
    if prev.state == TASK_DEAD:
        put_task_struct(kern, prev)


@guest_callable(nargs=1, asmlinkage=True)
def schedule_tail(kern, prev):
    """First C code of a new task (called by ret_from_fork with prev on the stack)."""
    finish_task_switch(kern, task_struct(kern.mem, prev))


def cpu_idle(kern):
    """The idle loop: sleep (hlt) until something is queued, then schedule."""
    while True:
        while not kern.rq[kern.this_cpu].queue:
            yield IDLE
        yield from schedule(kern)
