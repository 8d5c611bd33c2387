"""kthreadd-emu stack: a picture of a task's 8 KiB kernel stack (text or SVG)."""

from kernel_model.task import for_each_process
from kthreadd_emu.errors import UsageError
from kthreadd_emu.options import (
    add_load_option,
    add_machine_options,
    add_run_option,
    booted_with_image,
    pick_task,
    pid_option,
    run_to_idle,
)
from kthreadd_emu.output_file import check_output, write_output
from kthreadd_emu.stack_picture import as_text, task_stack_picture, to_svg


def add_parser(sub) -> None:
    p = sub.add_parser(
        "stack",
        help="boot, then draw a task's 8 KiB kernel stack (text or SVG)",
        description="thread_info and STACK_END_MAGIC at the bottom, the free area, the "
        "frames with return addresses named, the pt_regs frame at the top with what each "
        "field means, the 8 reserved bytes; thread.sp, thread.sp0 and esp marked.",
    )
    p.add_argument("--pid", help="the task (with --run: the run's thread, by default)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--svg", metavar="FILE", help="write an SVG picture to FILE")
    out.add_argument("--text", action="store_true", help="print it as text (the default)")
    p.add_argument(
        "--at-fork", action="store_true", help="the stack as copy_thread left it, before it ran"
    )
    add_machine_options(p)
    add_load_option(p, "a file loaded after the kernel (its labels name the stack's words)")
    add_run_option(p, 'an assembly test\'s run line, "kthread ROUTINE arg=5": run it until '
                   "the machine is idle, then draw its thread's stack")  # fmt: skip
    p.set_defaults(run=run)


def run(args) -> int:
    if args.pid is None and args.run_line is None:
        raise UsageError("--pid is required (or --run, whose thread is drawn)")
    pid = None if args.pid is None else pid_option(args)
    if args.svg is not None:
        check_output(args.svg)
    if args.run_line is not None:
        kern, thread = run_to_idle(args)
        if pid is None and not any(p.pid == thread for p in for_each_process(kern)):
            raise UsageError(
                f"--run: its thread (pid {thread}) exited before the machine "
                "went idle: its stack is freed (--pid names another task)"
            )
        pid = thread if pid is None else pid
    else:
        kern = booted_with_image(args)
    task = pick_task(kern, pid)
    pic = task_stack_picture(kern, task, args.at_fork)
    if args.svg is None:
        print("\n".join(as_text(pic)))
    else:
        write_output(args.svg, to_svg([pic]))
    return 0
