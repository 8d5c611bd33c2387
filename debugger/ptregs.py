"""A task's pt_regs frame in the formats users know: the kernel's __show_regs,
the crash utility's ``struct pt_regs``, JSON.  Shared by ``kthreadd-emu
ptregs`` and the debugger's ``ptregs`` command."""

import json

from kernel_model.process_32 import show_regs_of_frame
from kernel_model.ptrace import pt_regs
from kernel_model.sched import task_cpu


def as_show_regs(kern, task, addr, values) -> list[str]:
    return show_regs_of_frame(kern, addr, values, task_cpu(kern, task), task)


def as_struct(kern, task, addr, values) -> list[str]:
    """The crash utility's ``struct pt_regs -o -x ADDR`` layout, with values."""
    lines = [f"struct pt_regs {{  /* at {addr:#x}, pid {task.pid}, stack {task.stack:#x} */"]
    for f in pt_regs.FIELDS:
        lines.append(f"  [{f.offset:#x}] unsigned long {f.name} = {values[f.name]:#x};")
    lines += ["}", f"SIZE: {pt_regs.SIZE:#x}"]
    return lines


def as_json(kern, task, addr, values) -> list[str]:
    doc = {
        "pid": task.pid,
        "comm": task.comm.decode(errors="replace"),
        "addr": addr,
        "pt_regs": values,
    }
    return [json.dumps(doc, indent=1)]


FORMATS = {"show_regs": as_show_regs, "struct": as_struct, "json": as_json}
