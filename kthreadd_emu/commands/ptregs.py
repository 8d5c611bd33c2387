"""kthreadd-emu ptregs: the pt_regs frame at the top of a task's kernel stack."""

from debugger.ptregs import FORMATS
from kernel_model.process_32 import task_pt_regs
from kthreadd_emu.options import (
    add_machine_options,
    add_pid_option,
    booted_machine,
    pick_task,
    pid_option,
)
from kthreadd_emu.scenario import fork_frame


def add_parser(sub) -> None:
    p = sub.add_parser("ptregs", help="boot, then dump the pt_regs frame on a task's kernel stack")
    add_pid_option(p, default=2)  # kthreadd
    add_machine_options(p)
    p.add_argument("--format", choices=("show_regs", "struct", "json"), default="show_regs")
    p.add_argument(
        "--live",
        action="store_true",
        help="the frame's memory now, not as copy_thread left it (a thread that has "
        "run has popped it with iret and grown its stack over it)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    pid = pid_option(args)
    kern = booted_machine(args)
    task = pick_task(kern, pid)
    frame = task_pt_regs(kern, task)
    values = frame.values() if args.live else fork_frame(kern, task.pid)
    print("\n".join(FORMATS[args.format](kern, task, frame.addr, values)))
    return 0
