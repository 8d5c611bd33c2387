"""do_exit, release_task and do_wait (mirrors kernel/exit.c, 2.6.32).

Omitted: signals beyond SIGCHLD's ignore/notify, ptrace, thread groups,
mm/files/fs teardown (kernel threads own none), the panic when init itself
would exit (kernel_init never does).
"""

from kernel_model.bug import KernelBug
from kernel_model.completion import complete
from kernel_model.consts import (
    ECHILD,
    EXIT_DEAD,
    EXIT_ZOMBIE,
    PF_EXITING,
    SIGCHLD,
    TASK_DEAD,
    TASK_INTERRUPTIBLE,
    TASK_UNINTERRUPTIBLE,
)
from kernel_model.fork import unhash_process
from kernel_model.headers import completion, task_struct
from kernel_model.list import list_add_tail, list_del_init, list_entries
from kernel_model.rcupdate import call_rcu
from kernel_model.runtime import guest_callable, might_sleep
from kernel_model.sched import current, schedule, set_current_state, wake_up_process
from kernel_model.task import find_task_by_pid, put_task_struct

DEATH_REAP = -1  # include/linux/tracehook.h


DO_EXIT_BUG_LINE = 1019  # the BUG() after do_exit's last schedule() in 2.6.32


def delayed_put_task_struct(kern, addr: int) -> None:
    """The RCU callback of release_task(): readers that may still look at the
    task (walking the task list) are gone; drop release_task's reference."""
    tsk = task_struct(kern.mem, addr)
    kern.tracepoint("sched_process_free", p=tsk)
    put_task_struct(kern, tsk)


def release_task(kern, p) -> None:
    """The last of a dead task but its struct and stack: unhash it, and drop a
    reference once an RCU grace period has passed."""
    unhash_process(kern, p)
    call_rcu(kern, delayed_put_task_struct, p.addr)


def task_detached(p) -> bool:
    return p.exit_signal == -1


def __wake_up_parent(kern, p, parent) -> None:
    """Wake the parent if it sleeps in do_wait() (its wait_chldexit queue)."""
    if parent.state == TASK_INTERRUPTIBLE and parent.addr in kern.wait_chldexit:
        wake_up_process(kern, parent)


def do_notify_parent(kern, tsk, sig: int) -> int:
    """Tell the parent (kernel/signal.c); returns ``sig``, or DEATH_REAP if the
    child must reap itself: it would send SIGCHLD and the parent ignores it."""
    parent = task_struct(kern.mem, tsk.parent)
    ret = sig
    if sig == SIGCHLD and parent.signal_ignored:
        # POSIX: SIGCHLD set to SIG_IGN means no zombies for this parent.
        ret = tsk.exit_signal = DEATH_REAP
    __wake_up_parent(kern, tsk, parent)
    return ret


def find_new_reaper(kern, father):
    """No thread groups here: the pid namespace's child reaper (init, once
    kernel_init has claimed it; init_task before)."""
    return task_struct(kern.mem, kern.data.init_pid_ns.child_reaper)


def reparent_thread(kern, father, p, dead: list) -> None:
    list_del_init(kern.mem, p.sibling.addr)
    list_add_tail(kern.mem, p.sibling.addr, task_struct(kern.mem, p.real_parent).children.addr)
    if task_detached(p):
        return
    # We don't want people slaying init.
    p.exit_signal = SIGCHLD
    # If it has exited notify the new parent about this child's death.
    if p.exit_state == EXIT_ZOMBIE:
        do_notify_parent(kern, p, p.exit_signal)
        if task_detached(p):
            p.exit_state = EXIT_DEAD
            dead.append(p)


def forget_original_parent(kern, father) -> None:
    """Hand our children to the child reaper; release the ones that reap themselves."""
    reaper = find_new_reaper(kern, father)
    dead: list = []
    for addr in list_entries(kern.mem, father.children.addr, task_struct.OFFSETS["sibling"]):
        p = task_struct(kern.mem, addr)
        p.real_parent = reaper.addr
        if p.parent == father.addr:
            p.parent = p.real_parent
        reparent_thread(kern, father, p, dead)
    for p in dead:
        release_task(kern, p)


def tracehook_notify_death(kern, tsk) -> int:
    """The signal to send the parent (no ptrace here): none for a detached task."""
    return DEATH_REAP if task_detached(tsk) else tsk.exit_signal


def exit_notify(kern, tsk) -> None:
    """Make init inherit our children, tell our parent; a zombie unless nobody will wait."""
    forget_original_parent(kern, tsk)
    signal = tracehook_notify_death(kern, tsk)
    if signal >= 0:
        signal = do_notify_parent(kern, tsk, signal)
    tsk.exit_state = EXIT_DEAD if signal == DEATH_REAP else EXIT_ZOMBIE
    # If the process is dead, release it - nobody will wait for it.
    if signal == DEATH_REAP:
        release_task(kern, tsk)


def reparent_to_kthreadd(kern) -> None:
    """daemonize()'s first step: become kthreadd's child, exiting with SIGCHLD
    (which kthreadd ignores, so nobody has to wait for us)."""
    me = current(kern)
    me.real_parent = me.parent = kern.data.kthreadd_task
    list_del_init(kern.mem, me.sibling.addr)
    list_add_tail(kern.mem, me.sibling.addr, task_struct(kern.mem, me.real_parent).children.addr)
    me.exit_signal = SIGCHLD


def mm_release(kern, tsk) -> None:
    """Notify a parent sleeping on vfork(): here the kthread_stop() waiter, whose
    completion is the thread's struct kthread ``exited``."""
    if tsk.vfork_done:
        vfork_done = completion(kern.mem, tsk.vfork_done)
        tsk.vfork_done = 0
        complete(kern, vfork_done)


def exit_mm(kern, tsk) -> None:
    """A kernel thread has no mm of its own: only mm_release() has work."""
    mm_release(kern, tsk)


@guest_callable(nargs=1, noreturn=True)
@might_sleep
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
    exit_mm(kern, tsk)
    kern.tracepoint("sched_process_exit", p=tsk)
    exit_notify(kern, tsk)
    tsk.state = TASK_DEAD
    yield from schedule(kern)
    # A dead task never runs again: switch_to back to it means a corrupted stack.
    raise KernelBug(f"kernel BUG at kernel/exit.c:{DO_EXIT_BUG_LINE}!")


@might_sleep
def do_wait(kern, pid: int):
    """wait4(pid) for a kernel caller: sleep until child ``pid`` is a zombie, reap it.

    Returns (pid, exit_code), or (-ECHILD, 0) if there is no such child."""
    me = current(kern)
    # wait4() looks the pid up first (find_get_pid): pid_nr() of none is 0.
    kern.tracepoint("sched_process_wait", pid=pid if find_task_by_pid(kern, pid) else 0)
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
