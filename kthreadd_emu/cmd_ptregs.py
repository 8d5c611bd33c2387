"""kthreadd-emu ptregs: the pt_regs frame at the top of a task's kernel stack."""

import json

from kernel_model.process_32 import show_regs_of_frame, task_pt_regs
from kernel_model.sched import task_cpu
from kernel_model.task import find_task_by_pid, for_each_process
from kthreadd_emu.errors import UsageError, parse_int
from kthreadd_emu.scenario import demo_machine


def add_parser(sub) -> None:
    p = sub.add_parser("ptregs", help="dump the pt_regs frame on a task's kernel stack")
    p.add_argument("--pid", default=None, help="the task (default: the newest kernel thread)")
    p.add_argument("--format", choices=("show_regs", "struct", "json"), default="show_regs")
    p.set_defaults(run=run)


def run(args) -> int:
    kern = demo_machine()
    task = _pick(kern, args.pid)
    frame = task_pt_regs(kern, task)
    print("\n".join(FORMATS[args.format](kern, task, frame)))
    return 0


def _pick(kern, pid_text):
    if pid_text is None:
        return list(for_each_process(kern))[-1]
    task = find_task_by_pid(kern, parse_int(pid_text))
    if task is None:
        pids = ", ".join(str(p.pid) for p in for_each_process(kern))
        raise UsageError(f"no task with pid {pid_text} (tasks: {pids})")
    return task


def as_show_regs(kern, task, frame) -> list[str]:
    return show_regs_of_frame(kern, frame, task_cpu(kern, task), task)


def as_struct(kern, task, frame) -> list[str]:
    """The crash utility's ``struct pt_regs -o -x ADDR`` layout, with values."""
    lines = [f"struct pt_regs {{  /* at {frame.addr:#x}, pid {task.pid}, stack {task.stack:#x} */"]
    for f in frame.FIELDS:
        lines.append(f"  [{f.offset:#x}] unsigned long {f.name} = {getattr(frame, f.name):#x};")
    lines += ["}", f"SIZE: {frame.SIZE:#x}"]
    return lines


def as_json(kern, task, frame) -> list[str]:
    doc = {"pid": task.pid, "comm": task.comm.decode(errors="replace"), "addr": frame.addr,
           "pt_regs": frame.values()}  # fmt: skip
    return [json.dumps(doc, indent=1)]


FORMATS = {"show_regs": as_show_regs, "struct": as_struct, "json": as_json}
