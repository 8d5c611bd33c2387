"""Kernel threads: kthreadd and the kthread API (mirrors kernel/kthread.c, 2.6.32).

A thread function (``threadfn``) is an address: an assembly routine, or a
Python function published with @guest_callable; either way kthread()
calls it through the CPU.
"""

from kernel_model.completion import complete, init_completion, wait_for_completion
from kernel_model.consts import (
    CLONE_FILES,
    CLONE_FS,
    EINTR,
    ERR_PTR,
    IS_ERR,
    PF_FREEZER_NOSIG,
    PF_NOFREEZE,
    SCHED_NORMAL,
    SIGCHLD,
    TASK_COMM_LEN,
    TASK_INTERRUPTIBLE,
    TASK_RUNNING,
    TASK_UNINTERRUPTIBLE,
)
from kernel_model.exit import do_exit
from kernel_model.headers import completion, kthread_create_info, task_struct
from kernel_model.headers import kthread as kthread_struct
from kernel_model.list import list_add_tail, list_del_init, list_empty
from kernel_model.process_32 import kernel_thread
from kernel_model.runtime import call_guest, guest_callable, might_sleep
from kernel_model.sched import (
    KthreadError,
    __set_current_state,
    cpu_all_mask,
    current,
    sched_setscheduler_nocheck,
    schedule,
    set_cpus_allowed_ptr,
    set_current_state,
    wake_up_process,
)
from kernel_model.spinlock import spin_lock, spin_unlock
from kernel_model.task import get_task_struct, put_task_struct

_EXITED = kthread_struct.OFFSETS["exited"]
_LIST = kthread_create_info.OFFSETS["list"]


def set_task_comm(kern, tsk, name: str) -> None:
    tsk.comm = name.encode()[: TASK_COMM_LEN - 1]


def ignore_signals(kern, tsk) -> None:
    """Every handler SIG_IGN: kthreadd's children are reaped as they exit."""
    tsk.signal_ignored = 1


def set_mems_allowed(kern, nodemask) -> None:
    """One memory node here: nothing to restrict."""


def to_kthread(kern, k):
    """container_of(k->vfork_done, struct kthread, exited)."""
    return kthread_struct(kern.mem, k.vfork_done - _EXITED)


@guest_callable()
def kthread_should_stop(kern) -> int:
    """Non-zero once kthread_stop() was called on the current thread."""
    return to_kthread(kern, current(kern)).should_stop


@guest_callable(nargs=1)
@might_sleep
def kthread(kern, _create):
    """The new thread: report itself to its creator, sleep, then run threadfn."""
    create = kthread_create_info(kern.mem, _create)
    # Copy threadfn and data: create lives on the creator's stack.
    threadfn, data = create.threadfn, create.data
    with kern.runtime.stack_local(kthread_struct) as self:
        self.should_stop = 0
        init_completion(kern, self.exited)
        current(kern).vfork_done = self.exited.addr
        # OK, tell user we're spawned, wait for stop or wakeup.
        __set_current_state(kern, TASK_UNINTERRUPTIBLE)
        create.result = current(kern).addr
        complete(kern, create.done)
        yield from schedule(kern)
        ret = -EINTR
        if not self.should_stop:
            ret = yield from call_guest(threadfn, data)
        # We can't just return: we must preserve "self" on stack.
        yield from do_exit(kern, ret)


def create_kthread(kern, create) -> None:
    """Called by kthreadd only.  On failure the creator is told through create->result."""
    pid = kernel_thread(
        kern, kern.symbols["kthread"], create.addr, CLONE_FS | CLONE_FILES | SIGCHLD
    )
    if pid < 0:
        create.result = ERR_PTR(pid)
        complete(kern, create.done)


@might_sleep
def kthread_create(kern, threadfn: int, data: int, namefmt: str, *args):
    """Ask kthreadd for a thread running threadfn(data); returns its task address
    (parked in TASK_UNINTERRUPTIBLE) or ERR_PTR(-errno)."""
    with kern.runtime.stack_local(kthread_create_info) as create:
        create.threadfn, create.data = threadfn, data
        init_completion(kern, create.done)
        spin_lock(kern, kern.data.kthread_create_lock)
        list_add_tail(kern.mem, create.list.addr, kern.data.kthread_create_list.addr)
        spin_unlock(kern, kern.data.kthread_create_lock)
        kern.tracepoint("kthread_create", create=create)
        wake_up_process(kern, task_struct(kern.mem, kern.data.kthreadd_task))
        yield from wait_for_completion(kern, create.done)
        result = create.result
    if not IS_ERR(result):
        task = task_struct(kern.mem, result)
        task.comm = (namefmt % args).encode()[: TASK_COMM_LEN - 1]
        # root may have changed kthreadd's priority or CPU mask: don't inherit them.
        sched_setscheduler_nocheck(kern, task, SCHED_NORMAL, 0)
        yield from set_cpus_allowed_ptr(kern, task, cpu_all_mask(kern))
    return result


@might_sleep
def kthread_run(kern, threadfn: int, data: int, namefmt: str, *args):
    """kthread_create, then wake the thread if it was created."""
    k = yield from kthread_create(kern, threadfn, data, namefmt, *args)
    if not IS_ERR(k):
        wake_up_process(kern, task_struct(kern.mem, k))
    return k


@might_sleep
def kthread_stop(kern, k):
    """Tell ``k`` to stop and wait for it; returns threadfn's result, -EINTR if
    threadfn never ran, or the exit code of a thread that has already exited
    (its vfork_done is cleared: there is nothing to wait for).

    The caller must hold a reference to ``k``, as in the kernel.  Deviation: the
    kernel has no check for a task_struct already freed (it would read freed
    memory); here that is a KthreadError."""
    if k.addr not in kern.mm.tasks.allocated:
        raise KthreadError(
            f"kthread_stop: task {k.addr:#010x} was freed (use after free: "
            "take a reference with get_task_struct first)"
        )
    kern.tracepoint("sched_kthread_stop", t=k)
    get_task_struct(kern, k)
    if k.vfork_done:  # it might have exited
        kthread = to_kthread(kern, k)
        kthread.should_stop = 1
        wake_up_process(kern, k)
        yield from wait_for_completion(kern, completion(kern.mem, kthread.exited.addr))
    ret = k.exit_code
    put_task_struct(kern, k)
    kern.tracepoint("sched_kthread_stop_ret", ret=ret)
    return ret


@guest_callable(nargs=1)
@might_sleep
def kthreadd(kern, unused):
    """pid 2: create the threads that kthread_create() asks for, in FIFO order."""
    tsk = current(kern)
    # Setup a clean context for our children to inherit.
    set_task_comm(kern, tsk, "kthreadd")
    ignore_signals(kern, tsk)
    yield from set_cpus_allowed_ptr(kern, tsk, cpu_all_mask(kern))
    set_mems_allowed(kern, None)
    tsk.flags |= PF_NOFREEZE | PF_FREEZER_NOSIG
    head, lock = kern.data.kthread_create_list.addr, kern.data.kthread_create_lock
    while True:
        set_current_state(kern, TASK_INTERRUPTIBLE)
        if list_empty(kern.mem, head):
            yield from schedule(kern)
        __set_current_state(kern, TASK_RUNNING)
        spin_lock(kern, lock)
        while not list_empty(kern.mem, head):
            create = kthread_create_info(kern.mem, kern.data.kthread_create_list.next - _LIST)
            list_del_init(kern.mem, create.list.addr)
            spin_unlock(kern, lock)
            kern.tracepoint("kthreadd_dequeue", create=create)
            create_kthread(kern, create)
            spin_lock(kern, lock)
        spin_unlock(kern, lock)
