"""kthreadd-emu stack: a picture of a task's 8 KiB kernel stack (text or SVG)."""

from kthreadd_emu.options import (
    add_machine_options,
    add_pid_option,
    booted_machine,
    pick_task,
    pid_option,
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
    add_pid_option(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--svg", metavar="FILE", help="write an SVG picture to FILE")
    out.add_argument("--text", action="store_true", help="print it as text (the default)")
    p.add_argument(
        "--at-fork", action="store_true", help="the stack as copy_thread left it, before it ran"
    )
    add_machine_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    pid = pid_option(args)
    if args.svg is not None:
        check_output(args.svg)
    kern = booted_machine(args)
    task = pick_task(kern, pid)
    pic = task_stack_picture(kern, task, args.at_fork)
    if args.svg is None:
        print("\n".join(as_text(pic)))
    else:
        write_output(args.svg, to_svg([pic]))
    return 0
