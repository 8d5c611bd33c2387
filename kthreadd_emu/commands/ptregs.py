"""kthreadd-emu ptregs: the pt_regs frame at the top of a task's kernel stack."""

from debugger.ptregs import FORMATS
from kernel_model.process_32 import task_pt_regs
from kernel_model.task import find_task_by_pid, for_each_process
from kthreadd_emu.commands.ps import add_machine_options, machine_from_args
from kthreadd_emu.errors import PIDS, UsageError, parse_int
from kthreadd_emu.scenario import fork_frame


def add_parser(sub) -> None:
    p = sub.add_parser("ptregs", help="boot, then dump the pt_regs frame on a task's kernel stack")
    p.add_argument("--pid", default="2", help="the task (default 2, kthreadd)")
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
    pid = parse_int(args.pid, "--pid", *PIDS)
    kern = machine_from_args(args)
    task = pick_task(kern, pid)
    frame = task_pt_regs(kern, task)
    values = frame.values() if args.live else fork_frame(kern, task.pid)
    print("\n".join(FORMATS[args.format](kern, task, frame.addr, values)))
    return 0


def pick_task(kern, pid: int):
    task = find_task_by_pid(kern, pid)
    if task is None:
        pids = ", ".join(str(p.pid) for p in for_each_process(kern))
        raise UsageError(f"--pid: no task with pid {pid} (tasks: {pids})")
    return task
