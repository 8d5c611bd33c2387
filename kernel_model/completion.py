"""Completions (kernel/sched.c: complete, wait_for_completion; linux/completion.h).

A waiter queues a wait_queue_t that lives on its own kernel stack, as
DECLARE_WAITQUEUE does, and sleeps TASK_UNINTERRUPTIBLE until done > 0.
"""

from kernel_model.consts import TASK_RUNNING, TASK_UNINTERRUPTIBLE
from kernel_model.headers import task_struct, wait_queue_t
from kernel_model.list import INIT_LIST_HEAD, list_add_tail, list_del_init, list_entries
from kernel_model.runtime import might_sleep
from kernel_model.sched import current, schedule, set_current_state, wake_up_process

_LINK = wait_queue_t.OFFSETS["task_list"]


def init_completion(kern, x) -> None:
    x.done = 0
    x.wait.lock.slock = 0
    INIT_LIST_HEAD(kern.mem, x.wait.task_list.addr)


def complete(kern, x) -> None:
    """Count one completion and wake the first waiter."""
    x.done += 1
    kern.tracepoint("complete", x=x)
    waiters = list_entries(kern.mem, x.wait.task_list.addr, _LINK)
    if waiters:
        wake_up_process(kern, task_struct(kern.mem, wait_queue_t(kern.mem, waiters[0]).private))


@might_sleep
def wait_for_completion(kern, x):
    """Sleep uninterruptibly until ``x`` is completed, then consume one completion."""
    if not x.done:
        with kern.runtime.stack_local(wait_queue_t) as wait:
            wait.flags, wait.private, wait.func = 1, current(kern).addr, 0
            list_add_tail(kern.mem, wait.task_list.addr, x.wait.task_list.addr)
            while not x.done:
                set_current_state(kern, TASK_UNINTERRUPTIBLE)
                kern.tracepoint("wait_for_completion_sleep", x=x)
                yield from schedule(kern)
            kern.tracepoint("wait_for_completion_wake", x=x)
            set_current_state(kern, TASK_RUNNING)
            list_del_init(kern.mem, wait.task_list.addr)
    x.done -= 1
