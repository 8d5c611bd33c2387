"""The scheduler: run queues, schedule(), wake-ups (mirrors kernel/sched.c, 2.6.32).

Deviation: each CPU's run queue is a FIFO of runnable tasks kept in
Python (not CFS's red-black tree), so runs are deterministic; the
kernel has no preemption (CONFIG_PREEMPT_NONE), so a task runs until it
blocks or calls schedule().  The context switch itself is guest code:
schedule() calls the assembled switch_to (asm/entry_32.S).
"""

from collections import deque

from kernel_model.consts import TASK_DEAD, TASK_RUNNING
from kernel_model.headers import task_struct, thread_info
from kernel_model.runtime import IDLE, CallGuest, guest_callable
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
    return kern.current(kern.this_cpu)


def task_thread_info(kern, p):
    return thread_info(kern.mem, p.stack)


def task_cpu(kern, p) -> int:
    return task_thread_info(kern, p).cpu


def set_task_cpu(kern, p, cpu: int) -> None:
    task_thread_info(kern, p).cpu = cpu


def set_current_state(kern, state: int) -> None:
    current(kern).state = state


__set_current_state = set_current_state


def select_task_rq(kern, p) -> int:
    """Stay on the task's CPU if allowed there, else the first allowed CPU."""
    allowed = p.cpus_allowed
    cpu = task_cpu(kern, p)
    if allowed >> cpu & 1 and cpu < len(kern.rq):
        return cpu
    return (allowed & -allowed).bit_length() - 1


def activate_task(kern, p, cpu: int) -> None:
    set_task_cpu(kern, p, cpu)
    kern.on_rq.add(p.addr)
    kern.rq[cpu].queue.append(p.addr)
    kern.runtime.kick(cpu)


def try_to_wake_up(kern, p, state_mask: int) -> bool:
    """Make ``p`` runnable if its state is in ``state_mask``; True if it was woken."""
    if not p.state & state_mask:
        return False
    p.state = TASK_RUNNING
    if p.addr not in kern.on_rq:
        activate_task(kern, p, select_task_rq(kern, p))
    return True


def wake_up_process(kern, p) -> bool:
    return try_to_wake_up(kern, p, 0x3 | 0xC)


def wake_up_new_task(kern, p, clone_flags: int) -> None:
    p.state = TASK_RUNNING
    activate_task(kern, p, select_task_rq(kern, p))


def pick_next_task(kern, q: rq) -> int:
    """The first queued task allowed on this CPU, else the idle task."""
    for addr in q.queue:
        if task_struct(kern.mem, addr).cpus_allowed >> q.cpu & 1:
            q.queue.remove(addr)
            return addr
    return q.idle


@guest_callable()
def schedule(kern):
    """Give the CPU to the next runnable task; returns when we run again."""
    q = kern.rq[kern.this_cpu]
    prev = current(kern)
    if prev.state != TASK_RUNNING:
        kern.on_rq.discard(prev.addr)
    elif prev.addr != q.idle:
        q.queue.append(prev.addr)
    nxt = task_struct(kern.mem, pick_next_task(kern, q))
    if nxt == prev:
        return
    q.nr_switches += 1
    prev.nvcsw += 1
    set_task_cpu(kern, nxt, q.cpu)
    last = yield from context_switch(kern, prev, nxt)
    finish_task_switch(kern, task_struct(kern.mem, last))


def context_switch(kern, prev, nxt):
    """switch_to(prev, next, last) runs on the CPU; returns ``last``."""
    return (yield CallGuest(kern.symbols["switch_to"], (prev.addr, nxt.addr)))


def finish_task_switch(kern, prev) -> None:
    """Drop the reference a dead task held on itself, now that we are off its stack."""
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
