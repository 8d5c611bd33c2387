"""The kernel functions C code calls, under their names and with their
prototypes (EXPORT_SYMBOL): each takes the C arguments (addresses and numbers,
passed as -mregparm=3 passes them) and hands them, as the model's typed
views, to the kernel model's own function of the same name.

Wait queues live here whole (kernel/wait.c, kernel/sched.c's __wake_up): the
model itself uses only completions.  A waiter's wake function is called as
the kernel calls it, through its pointer: the model's own (autoremove,
default) in Python, any other through the CPU.
"""

from kernel_model import kthread as _kthread
from kernel_model import sched as _sched
from kernel_model.completion import complete as _complete
from kernel_model.completion import wait_for_completion as _wait_for_completion
from kernel_model.consts import _TIF_NEED_RESCHED, TASK_RUNNING
from kernel_model.headers import completion as completion_t
from kernel_model.headers import task_struct, thread_info, wait_queue_head_t, wait_queue_t
from kernel_model.list import __list_add, list_add_tail, list_del_init, list_empty, list_entries
from kernel_model.runtime import call_guest, guest_callable, might_sleep
from kernel_model.spinlock import spin_lock, spin_unlock
from kernel_model.task import free_task
from kernel_model.vsprintf import VaList, format_at, stack_arguments

WQ_FLAG_EXCLUSIVE = 0x01
_LINK = wait_queue_t.OFFSETS["task_list"]


# -- kernel/kthread.c ---------------------------------------------------------------


@guest_callable()
@might_sleep
def kthread_create(kern):
    """struct task_struct *kthread_create(int (*threadfn)(void *data), void *data,
    const char namefmt[], ...): the name formatted as vsnprintf formats it."""
    sp = stack_arguments(kern)
    threadfn, data, namefmt = kern.mem.unpack("<3I", sp)
    name = format_at(kern, namefmt, VaList(kern.mem, sp + 12)).decode(errors="replace")
    return (yield from _kthread.kthread_create(kern, threadfn, data, "%s", name))


@guest_callable(nargs=2)
@might_sleep
def kthread_bind(kern, k: int, cpu: int):
    """void kthread_bind(struct task_struct *k, unsigned int cpu)"""
    yield from _sched.kthread_bind(kern, task_struct(kern.mem, k), cpu)


@guest_callable(nargs=1)
@might_sleep
def kthread_stop(kern, k: int):
    """int kthread_stop(struct task_struct *k)"""
    return (yield from _kthread.kthread_stop(kern, task_struct(kern.mem, k)))


# -- kernel/sched.c, kernel/fork.c ----------------------------------------------------


@guest_callable(nargs=1)
def wake_up_process(kern, p: int) -> int:
    """int wake_up_process(struct task_struct *p)"""
    return _sched.wake_up_process(kern, task_struct(kern.mem, p))


@guest_callable()
@might_sleep
def _cond_resched(kern):
    """int _cond_resched(void): schedule if the tick asked for it (no preemption,
    CONFIG_PREEMPT_NONE: this is where a long loop lets others run)."""
    ti = thread_info(kern.mem, _sched.current(kern).stack)
    if ti.flags & _TIF_NEED_RESCHED:
        yield from _sched.schedule(kern)
        return 1
    return 0


@guest_callable(nargs=1)
def __put_task_struct(kern, t: int) -> None:
    """void __put_task_struct(struct task_struct *t): the last reference is gone."""
    free_task(kern, task_struct(kern.mem, t))


@guest_callable(nargs=1)
def complete(kern, x: int) -> None:
    """void complete(struct completion *x)"""
    _complete(kern, completion_t(kern.mem, x))


@guest_callable(nargs=1)
@might_sleep
def wait_for_completion(kern, x: int):
    """void wait_for_completion(struct completion *x)"""
    yield from _wait_for_completion(kern, completion_t(kern.mem, x))


@guest_callable(nargs=1)
def try_wait_for_completion(kern, x: int) -> int:
    """bool try_wait_for_completion(struct completion *x): take one if there is one."""
    done = completion_t(kern.mem, x)
    if not done.done:
        return 0
    done.done -= 1
    return 1


@guest_callable(nargs=1)
def completion_done(kern, x: int) -> int:
    """bool completion_done(struct completion *x): no waiter would block."""
    return int(completion_t(kern.mem, x).done != 0)


# -- kernel/wait.c --------------------------------------------------------------------


def _queue(kern, q: int, wait: int):
    return wait_queue_head_t(kern.mem, q), wait_queue_t(kern.mem, wait)


def __add_wait_queue(kern, head, new) -> None:
    __list_add(kern.mem, new.task_list.addr, head.task_list.addr, head.task_list.next)


@guest_callable(nargs=2)
def add_wait_queue(kern, q: int, wait: int) -> None:
    """void add_wait_queue(wait_queue_head_t *q, wait_queue_t *wait)"""
    head, entry = _queue(kern, q, wait)
    entry.flags &= ~WQ_FLAG_EXCLUSIVE
    spin_lock(kern, head.lock)
    __add_wait_queue(kern, head, entry)
    spin_unlock(kern, head.lock)


@guest_callable(nargs=2)
def remove_wait_queue(kern, q: int, wait: int) -> None:
    """void remove_wait_queue(wait_queue_head_t *q, wait_queue_t *wait)"""
    head, entry = _queue(kern, q, wait)
    spin_lock(kern, head.lock)
    list_del_init(kern.mem, entry.task_list.addr)
    spin_unlock(kern, head.lock)


def _prepare(kern, q: int, wait: int, state: int, exclusive: bool) -> None:
    head, entry = _queue(kern, q, wait)
    if exclusive:
        entry.flags |= WQ_FLAG_EXCLUSIVE
    else:
        entry.flags &= ~WQ_FLAG_EXCLUSIVE
    spin_lock(kern, head.lock)
    if list_empty(kern.mem, entry.task_list.addr):
        if exclusive:
            list_add_tail(kern.mem, entry.task_list.addr, head.task_list.addr)
        else:
            __add_wait_queue(kern, head, entry)
    _sched.set_current_state(kern, state)
    spin_unlock(kern, head.lock)


@guest_callable(nargs=3)
def prepare_to_wait(kern, q: int, wait: int, state: int) -> None:
    """void prepare_to_wait(wait_queue_head_t *q, wait_queue_t *wait, int state):
    on the queue (at its head) if not there yet, then the task's state."""
    _prepare(kern, q, wait, state, exclusive=False)


@guest_callable(nargs=3)
def prepare_to_wait_exclusive(kern, q: int, wait: int, state: int) -> None:
    """As prepare_to_wait, at the queue's tail and woken alone."""
    _prepare(kern, q, wait, state, exclusive=True)


@guest_callable(nargs=2)
def finish_wait(kern, q: int, wait: int) -> None:
    """void finish_wait(wait_queue_head_t *q, wait_queue_t *wait): running again,
    and off the queue unless a wake function took it off already."""
    head, entry = _queue(kern, q, wait)
    _sched.set_current_state(kern, TASK_RUNNING)
    if not list_empty(kern.mem, entry.task_list.addr):
        spin_lock(kern, head.lock)
        list_del_init(kern.mem, entry.task_list.addr)
        spin_unlock(kern, head.lock)


@guest_callable(nargs=3)
def default_wake_function(kern, wait: int, mode: int, sync: int) -> int:
    """int default_wake_function(wait_queue_t *curr, unsigned mode, int wake_flags,
    void *key): wake the waiting task if it sleeps in ``mode``."""
    waiter = task_struct(kern.mem, wait_queue_t(kern.mem, wait).private)
    return _sched.try_to_wake_up(kern, waiter, mode)


@guest_callable(nargs=3)
def autoremove_wake_function(kern, wait: int, mode: int, sync: int) -> int:
    """Wake the waiter and, if it was woken, take it off the queue."""
    woken = default_wake_function(kern, wait, mode, sync)
    if woken:
        list_del_init(kern.mem, wait + _LINK)
    return woken


_IN_PYTHON = {"default_wake_function": default_wake_function,
              "autoremove_wake_function": autoremove_wake_function}  # fmt: skip


@guest_callable(nargs=3)
@might_sleep
def __wake_up(kern, q: int, mode: int, nr_exclusive: int):
    """void __wake_up(wait_queue_head_t *q, unsigned int mode, int nr_exclusive,
    void *key): each waiter's wake function, until nr_exclusive exclusive
    waiters are woken (0: all)."""
    key = kern.mem.u32(stack_arguments(kern))
    head = wait_queue_head_t(kern.mem, q)
    spin_lock(kern, head.lock)
    left = nr_exclusive - (1 << 32) if nr_exclusive & 0x80000000 else nr_exclusive
    for curr in list_entries(kern.mem, head.task_list.addr, _LINK):
        entry = wait_queue_t(kern.mem, curr)
        flags, func = entry.flags, entry.func
        name = kern.machine.python_functions.get(func)
        if name in _IN_PYTHON:
            woken = _IN_PYTHON[name](kern, curr, mode, 0)
        else:
            woken = yield from call_guest(func, curr, mode, 0, key)
        if woken and flags & WQ_FLAG_EXCLUSIVE:
            left -= 1
            if not left:
                break
    spin_unlock(kern, head.lock)
