"""do_fork and copy_process (mirrors kernel/fork.c, 2.6.32).

Omitted: mm, files, fs, signal and namespace copying (kernel threads share
init's), cgroups, audit, ptrace, CLONE_VFORK waiting.
"""

from kernel_model.consts import (
    CLONE_PARENT,
    CLONE_SIGHAND,
    CLONE_THREAD,
    CSIGNAL,
    EAGAIN,
    EINVAL,
    ENOMEM,
    ERR_PTR,
    IS_ERR,
    PF_FORKNOEXEC,
    PF_STARTING,
    PF_SUPERPRIV,
    PTR_ERR,
    STACK_END_MAGIC,
)
from kernel_model.headers import task_struct, thread_info
from kernel_model.list import INIT_LIST_HEAD, list_add_tail, list_del_init
from kernel_model.mm import OutOfMemory
from kernel_model.process_32 import copy_thread
from kernel_model.sched import current, sched_fork, wake_up_new_task
from kernel_model.task import end_of_stack, free_task

MAX_THREADS = 4096 * 8  # fork_init()'s default; the kernel sizes it from memory


def dup_task_struct(kern, orig):
    """A copy of ``orig`` with its own stack whose thread_info points back at it."""
    try:
        tsk = task_struct(kern.mem, kern.mm.tasks.alloc())
    except OutOfMemory:
        return None
    try:
        stack = kern.mm.stacks.alloc()
    except OutOfMemory:
        kern.mm.tasks.release(tsk.addr)
        return None
    tsk.copy_from(orig)
    tsk.stack = stack
    # setup_thread_stack(): the child's thread_info is the parent's, then ->task = child.
    ti = thread_info(kern.mem, stack)
    ti.copy_from(thread_info(kern.mem, orig.stack))
    ti.task = tsk.addr
    kern.mem.set_u32(end_of_stack(tsk), STACK_END_MAGIC)
    tsk.stack_canary = kern.rng.getrandbits(32)
    # One reference for the task itself, one for whoever releases it.
    tsk.usage = 2
    return tsk


def copy_flags(clone_flags: int, p) -> None:
    p.flags = (p.flags & ~PF_SUPERPRIV) | PF_FORKNOEXEC | PF_STARTING


def copy_process(kern, clone_flags, stack_start, regs, stack_size, child_tidptr, pid):
    """Create the child task; returns it, or ERR_PTR(-errno) as an int."""
    if clone_flags & CLONE_THREAD and not clone_flags & CLONE_SIGHAND:
        return ERR_PTR(-EINVAL)
    if kern.data.nr_threads >= kern.max_threads:
        return ERR_PTR(-EAGAIN)
    p = dup_task_struct(kern, current(kern))
    if p is None:
        return ERR_PTR(-ENOMEM)
    copy_flags(clone_flags, p)
    INIT_LIST_HEAD(kern.mem, p.children.addr)
    INIT_LIST_HEAD(kern.mem, p.sibling.addr)
    p.vfork_done = 0
    p.utime = p.stime = p.nvcsw = 0
    p.start_time = kern.data.jiffies
    p.exit_state = p.exit_code = 0
    sched_fork(kern, p, clone_flags)
    copy_thread(kern, clone_flags, stack_start, stack_size, p, regs)
    # 2.6.32 reports an exhausted pidmap as -ENOMEM (alloc_pid() returns NULL).
    nr = kern.pidmap.alloc_pidmap() if pid is None else pid
    if nr < 0:
        free_task(kern, p)
        return ERR_PTR(-ENOMEM)
    p.pid = p.tgid = nr
    p.exit_signal = clone_flags & CSIGNAL
    parent = (
        task_struct(kern.mem, current(kern).real_parent)
        if clone_flags & CLONE_PARENT
        else current(kern)
    )
    p.real_parent = p.parent = parent.addr
    # The idle tasks (pid 0) are on no list and not counted.
    if p.pid:
        list_add_tail(kern.mem, p.sibling.addr, parent.children.addr)
        list_add_tail(kern.mem, p.tasks.addr, kern.data.init_task.tasks.addr)
        kern.data.nr_threads += 1
    return p


def do_fork(kern, clone_flags, stack_start, regs, stack_size, parent_tidptr, child_tidptr):
    """Fork a task around ``regs``; returns the child's pid or a negative errno."""
    p = copy_process(kern, clone_flags, stack_start, regs, stack_size, child_tidptr, None)
    if isinstance(p, int) and IS_ERR(p):
        return PTR_ERR(p)
    nr = p.pid
    kern.tracepoint("sched_process_fork", parent=current(kern), child=p)
    p.flags &= ~PF_STARTING
    wake_up_new_task(kern, p, clone_flags)
    return nr


def unhash_process(kern, p) -> None:
    """Take ``p`` off the task list and its parent's children, and free its pid."""
    kern.data.nr_threads -= 1
    if p.pid:
        kern.pidmap.free_pidmap(p.pid)
    list_del_init(kern.mem, p.tasks.addr)
    list_del_init(kern.mem, p.sibling.addr)
