"""Tasks as a debugger sees them: which CPU runs each, where a sleeping one
sleeps (the guest address it resumes at, and the Python line it waits on),
and its registers as Linux saved them.

A sleeping task's registers are KGDB's reconstruction
(sleeping_thread_to_gdb_regs, arch/x86/kernel/kgdb.c): eip = thread.ip,
esp = thread.sp, ebp = ``*(unsigned long *)thread.sp``, the other general
registers 0 (Linux does not keep them: they were on the stack of whatever
called schedule()).  For a task switched out by switch_to that word is the
ebp it pushed last (``pushl %ebp`` just before it saved esp); for a task
that never ran, thread.sp is its pt_regs, so the word is pt_regs.bx, the
thread function (ret_from_fork's entry).  Where KGDB gives 0 or 0xffff, this
machine knows more and says it: eflags is the word switch_to's ``pushfl``
saved (its ``popfl`` restores it; a task that never ran has no such word, so
0 as KGDB), and the selectors are the ones every CPU holds in the kernel
(emu/segment.py's KERNEL_SEGMENTS), which the task gets back when it is
switched in, where KGDB gives cs 0x60, ds/es/ss 0x68 and fs/gs 0xffff.
"""

import inspect
import os

from debugger.ps import forest, snapshot
from emu.segment import KERNEL_SEGMENTS
from kernel_model.process_32 import task_pt_regs
from kernel_model.sched import task_cpu
from kernel_model.task import find_task_by_pid, for_each_process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TaskError(Exception):
    """No such task (the message lists what there is)."""


def running_on(kern, task) -> int | None:
    """The CPU whose current task is ``task``, or None if it is switched out."""
    for cpu in range(len(kern.machine.cpus)):
        if kern.current_addr(cpu) == task.addr:
            return cpu
    return None


def sleeping_registers(kern, task) -> dict:
    """KGDB's registers of a switched-out task (see the module's docstring)."""
    sp, ip = task.thread.sp, task.thread.ip
    ebp = kern.mem.u32(sp)
    eflags = 0 if ip == kern.symbols.get("ret_from_fork") else kern.mem.u32(sp + 4)
    regs = dict.fromkeys(("eax", "ebx", "ecx", "edx", "esi", "edi"), 0)
    regs.update(ebp=ebp, esp=sp, eip=ip, eflags=eflags, **KERNEL_SEGMENTS)
    return regs


def task_registers(kern, task) -> dict:
    """gdb's names (eax..gs, eip, eflags, orig_eax): the CPU's live registers for a
    running task, Linux's saved ones for a switched-out one; orig_eax is the
    task's pt_regs orig_ax (gdb's i386 Linux feature)."""
    cpu = running_on(kern, task)
    regs = sleeping_registers(kern, task) if cpu is None else kern.machine.cpus[cpu].regs()
    regs["orig_eax"] = task_pt_regs(kern, task).orig_ax
    return regs


def all_tasks(kern) -> list:
    """(task, cpu) for each CPU's idle task (pid 0, CPU order), then every task of the
    task list (for_each_process, which the idle tasks are not on, as in Linux).
    Before boot only CPU 0 has its idle task (init_task); the others get theirs
    as they come up."""
    idle = [(kern.task(q.idle), q.cpu) for q in kern.rq if q.idle]
    return idle + [(p, task_cpu(kern, p)) for p in for_each_process(kern)]


def find_task(kern, pid: int):
    """The task with ``pid`` (0: CPU 0's idle task, init_task)."""
    if pid == 0:
        return kern.data.init_task
    task = find_task_by_pid(kern, pid)
    if task is None:
        pids = ", ".join(str(p.pid) for p in snapshot(kern))
        raise TaskError(f"Invalid thread ID: {pid} (tasks: 0, {pids})" if pids else
                        f"Invalid thread ID: {pid} (only task 0 exists before boot)")  # fmt: skip
    return task


def short_path(filename: str) -> str:
    return os.path.relpath(filename, ROOT) if filename.startswith(ROOT) else filename


def innermost(gen):
    """The frame a Python kernel generator (and what it delegates to) waits in."""
    frame = None
    while inspect.isgenerator(gen) and gen.gi_frame is not None:
        frame = gen.gi_frame
        gen = gen.gi_yieldfrom
    return frame


def python_line(kern, task) -> str | None:
    """``kernel_model/sched.py:123 schedule``: where the task's Python side waits."""
    frames = kern.runtime.frames.get(task.addr)
    if not frames or frames[-1].gen is None:
        return None
    frame = innermost(frames[-1].gen)
    if frame is None:
        return None
    return f"{short_path(frame.f_code.co_filename)}:{frame.f_lineno} {frame.f_code.co_name}"


def where(kern, task) -> str:
    """Running on a CPU, or where it sleeps: thread.ip named, and its Python line."""
    cpu = running_on(kern, task)
    if cpu is not None:
        eip = kern.machine.cpus[cpu].read("eip")
        return f"running on CPU {cpu} at {kern.symbols.describe(eip)}"
    if task.exit_state:
        return "exited"
    place = f"thread.ip {kern.symbols.describe(task.thread.ip)}"
    line = python_line(kern, task)
    return f"{place}, {line}" if line else place


TASKS_HEADER = f"  {'PID':>5} {'PPID':>5} {'CPU':>3} {'ST':<2} {'COMMAND':<24} WHERE"


def tasks_listing(kern, selected: int | None = None) -> list[str]:
    """``tasks``: ps's tree (debugger/ps.py) with CPU, state and where each task is."""
    lines = [TASKS_HEADER]
    by_pid = {p.pid: p for p in snapshot(kern)}
    rows = forest(list(by_pid.values()))
    for proc, prefix in rows:
        task = find_task_by_pid(kern, proc.pid)
        tree = "".join({" ": "  ", "L": "\\_", "+": "\\_", "|": "| "}[c] for c in prefix)
        mark = "*" if proc.pid == selected else " "
        lines.append(
            f"{mark} {proc.pid:>5} {proc.ppid:>5} {proc.cpu:>3} {proc.stat:<2} "
            f"{tree + proc.comm:<24} {where(kern, task)}"
        )
    return lines


def info_threads(kern, selected: int | None, registers) -> list[str]:
    """gdb's ``info threads``: Id (the pid, as ``thread N`` takes it), Target Id,
    Frame; ``registers(pid)`` gives a task's registers (live or saved)."""
    rows = []
    for proc in snapshot(kern):
        eip = registers(proc.pid)["eip"]
        name = kern.symbols.describe(eip).split("+")[0]
        target = f"Thread {proc.pid} ({proc.comm} pid {proc.pid} {proc.stat[:1]} cpu{proc.cpu})"
        rows.append(("*" if proc.pid == selected else " ", str(proc.pid), target,
                     f"{eip:#010x} in {name} ()"))  # fmt: skip
    id_w = max([len("Id"), *(len(r[1]) for r in rows)])
    target_w = max([len("Target Id"), *(len(r[2]) for r in rows)])
    lines = [f"  {'Id':<{id_w}}   {'Target Id':<{target_w}}  Frame "]
    lines += [f"{m} {i:<{id_w}}   {t:<{target_w}}  {f}" for m, i, t, f in rows]
    return lines
