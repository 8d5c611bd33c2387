"""do_exit, release_task and do_wait (mirrors kernel/exit.c, 2.6.32).

Omitted: signals beyond SIGCHLD's ignore/notify, ptrace, thread groups,
mm/files/fs teardown (kernel threads own none).
"""

from kernel_model.bug import KernelBug
from kernel_model.completion import complete
from kernel_model.consts import (
    ECHILD,
    EXIT_DEAD,
    EXIT_ZOMBIE,
    PF_EXITING,
    TASK_DEAD,
    TASK_INTERRUPTIBLE,
    TASK_UNINTERRUPTIBLE,
)
from kernel_model.fork import unhash_process
from kernel_model.headers import completion, task_struct
from kernel_model.list import list_entries
from kernel_model.runtime import guest_callable
from kernel_model.sched import current, schedule, set_current_state, wake_up_process
from kernel_model.task import put_task_struct


DO_EXIT_BUG_LINE = 1019  # the BUG() after do_exit's last schedule() in 2.6.32


def release_task(kern, p) -> None:
    """The last of a dead task but its struct and stack: unhash it and drop a reference."""
    unhash_process(kern, p)
    put_task_struct(kern, p)


def do_notify_parent(kern, tsk) -> bool:
    """Tell the parent; True if the child should be reaped at once (SIGCHLD ignored
    by the parent, or no exit signal at all)."""
    parent = task_struct(kern.mem, tsk.parent)
    autoreap = tsk.exit_signal == 0 or bool(parent.signal_ignored)
    if parent.state == TASK_INTERRUPTIBLE and parent.addr in kern.wait_chldexit:
        wake_up_process(kern, parent)
    return autoreap


def forget_original_parent(kern, father) -> None:
    """Hand our children to the child reaper (init)."""
    reaper = kern.child_reaper()
    for child in list_entries(kern.mem, father.children.addr, task_struct.OFFSETS["sibling"]):
        task_struct(kern.mem, child).real_parent = reaper.addr
        task_struct(kern.mem, child).parent = reaper.addr


def exit_notify(kern, tsk) -> None:
    forget_original_parent(kern, tsk)
    if do_notify_parent(kern, tsk):
        tsk.exit_state = EXIT_DEAD
        release_task(kern, tsk)
    else:
        tsk.exit_state = EXIT_ZOMBIE


@guest_callable(nargs=1, noreturn=True)
def do_exit(kern, code):
    """End the current task with exit code ``code``; never returns."""
    tsk = current(kern)
    if tsk.flags & PF_EXITING:
        kern.printk("Fixing recursive fault but reboot is needed!")
        set_current_state(kern, TASK_UNINTERRUPTIBLE)
        yield from schedule(kern)
    tsk.flags |= PF_EXITING
    tsk.exit_code = code
    kern.tracepoint("do_exit", task=tsk, code=code)
    # mm_release(): complete_vfork_done() wakes a kthread_stop() waiter.
    if tsk.vfork_done:
        complete(kern, completion(kern.mem, tsk.vfork_done))
        tsk.vfork_done = 0
    exit_notify(kern, tsk)
    tsk.state = TASK_DEAD
    yield from schedule(kern)
    # A dead task never runs again: switch_to back to it means a corrupted stack.
    raise KernelBug(f"kernel BUG at kernel/exit.c:{DO_EXIT_BUG_LINE}!")


def do_wait(kern, pid: int):
    """wait4(pid) for a kernel caller: sleep until child ``pid`` is a zombie, reap it.

    Returns (pid, exit_code), or (-ECHILD, 0) if there is no such child."""
    me = current(kern)
    while True:
        child = _find_child(kern, me, pid)
        if child is None:
            return -ECHILD, 0
        if child.exit_state == EXIT_ZOMBIE:
            code = child.exit_code
            release_task(kern, child)
            return pid, code
        kern.wait_chldexit.add(me.addr)
        set_current_state(kern, TASK_INTERRUPTIBLE)
        yield from schedule(kern)
        kern.wait_chldexit.discard(me.addr)


def _find_child(kern, parent, pid: int):
    for addr in list_entries(kern.mem, parent.children.addr, task_struct.OFFSETS["sibling"]):
        if task_struct(kern.mem, addr).pid == pid:
            return task_struct(kern.mem, addr)
    return None
