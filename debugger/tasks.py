"""Tasks as a debugger sees them: every task with the CPU it is on, and its
registers, live on a CPU or as Linux saved them when it was switched out.

A sleeping task's registers are what KGDB's sleeping_thread_to_gdb_regs
(arch/x86/kernel/kgdb.c, 2.6.32) reconstructs: eip = thread.ip, esp =
thread.sp, ebp = the word at thread.sp (switch_to pushed eflags, then ebp,
then saved esp in thread.sp), the scratch registers 0 (switch_to does not keep
them).  Where KGDB has to give 0 or 0xffff, this machine knows more and says
it: eflags is the word switch_to pushed above ebp, and the selectors are the
ones every CPU holds in the kernel (emu/segment.py's KERNEL_SEGMENTS), which
the task gets back when it is switched in.  A task that never ran has no
switch_to frame: its thread.sp is its pt_regs, ebp and eflags are 0.
"""

from emu.cpu import REG_NAMES
from emu.segment import KERNEL_SEGMENTS
from kernel_model.process_32 import task_pt_regs
from kernel_model.sched import task_cpu
from kernel_model.task import for_each_process


def all_tasks(kern) -> list:
    """(task, cpu) for each CPU's idle task (pid 0, CPU order), then every task of the
    task list (for_each_process, which the idle tasks are not on, as in Linux)."""
    idle = [(kern.task(q.idle), q.cpu) for q in kern.rq]
    return idle + [(p, task_cpu(kern, p)) for p in for_each_process(kern)]


def running_on(kern, task) -> int | None:
    """The CPU whose current task ``task`` is, or None if it is switched out."""
    cpu = task_cpu(kern, task)
    return cpu if kern.current_addr(cpu) == task.addr else None


def saved_registers(kern, task) -> dict:
    """The registers of a switched-out task, as KGDB reconstructs them (above)."""
    sp, ip = task.thread.sp, task.thread.ip
    regs = dict.fromkeys(("eax", "ebx", "ecx", "edx", "esi", "edi"), 0)
    never_ran = ip == kern.symbols["ret_from_fork"]
    regs["ebp"] = 0 if never_ran else kern.mem.u32(sp)
    regs["eflags"] = 0 if never_ran else kern.mem.u32(sp + 4)
    regs.update(esp=sp, eip=ip, **KERNEL_SEGMENTS)
    return regs


def task_registers(kern, task) -> dict:
    """gdb's names (eax..gs, eip, eflags, orig_eax): the CPU's live registers for a
    running task, saved_registers() for a switched-out one; orig_eax is the task's
    pt_regs orig_ax."""
    cpu = running_on(kern, task)
    if cpu is None:
        regs = saved_registers(kern, task)
    else:
        regs = kern.machine.cpus[cpu].regs(REG_NAMES)
    regs["orig_eax"] = task_pt_regs(kern, task).orig_ax
    return regs
