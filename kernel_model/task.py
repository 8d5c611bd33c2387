"""Task lifetime helpers (include/linux/sched.h, kernel/fork.c: free_task)."""

from kernel_model.consts import THREAD_SIZE
from kernel_model.headers import task_struct, thread_info
from kernel_model.list import list_entries


def end_of_stack(p) -> int:
    """Address of the STACK_END_MAGIC word, just past thread_info."""
    return p.stack + thread_info.SIZE


def stack_top(p) -> int:
    return p.stack + THREAD_SIZE


def free_task(kern, p) -> None:
    """Give back the task's stack and task_struct (free_thread_info, free_task_struct)."""
    kern.runtime.frames.pop(p.addr, None)
    kern.mm.stacks.release(p.stack)
    kern.mm.tasks.release(p.addr)


def get_task_struct(kern, p) -> None:
    p.usage += 1


def put_task_struct(kern, p) -> None:
    p.usage -= 1
    if p.usage == 0:
        free_task(kern, p)


def for_each_process(kern):
    """Every task on the task list (init_task's ``tasks``), in creation order."""
    head = kern.data.init_task.tasks.addr
    for addr in list_entries(kern.mem, head, task_struct.OFFSETS["tasks"]):
        yield task_struct(kern.mem, addr)


def find_task_by_pid(kern, nr: int):
    """find_task_by_pid_ns(nr, &init_pid_ns): the task with pid ``nr``, or None."""
    return next((p for p in for_each_process(kern) if p.pid == nr), None)
