"""kthreadd-emu walk: watch a kernel thread being born, instruction by instruction."""

import json

from kernel_model.cbuild import parse_cflags
from kthreadd_emu.errors import INT_MIN, WORD_MAX, complain, parse_int
from kthreadd_emu.options import add_budget_option, add_load_option, budget_option
from kthreadd_emu.output_file import check_output
from kthreadd_emu.stack_picture import write_walk_svg
from kthreadd_emu.walkthrough import WALK_FLAGS, walk

REG_ORDER = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags",
             "cs", "ds", "es", "fs", "gs", "ss")  # fmt: skip


def add_parser(sub) -> None:
    p = sub.add_parser(
        "walk", help="kernel_thread -> do_fork -> ret_from_fork -> the thread, step by step"
    )
    p.add_argument(
        "--arg", default="21", help="the thread's argument (decimal or 0x-hex; default 21)"
    )
    p.add_argument(
        "--fn", default="answer", help="thread function: a symbol or an address (default answer)"
    )
    add_budget_option(p, "instructions a CPU may run without a stop")
    p.add_argument(
        "--via",
        choices=("kernel_thread", "kthread_create"),
        default="kernel_thread",
        help="kernel_thread from the boot task, or kthread_run through kthreadd",
    )
    p.add_argument("--syntax", choices=("att", "intel"), default="att", help="disassembly syntax")
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")
    p.add_argument("--svg", metavar="FILE", help="also draw the stack at each entry landmark")
    add_load_option(p, "a file whose routine --fn may name, loaded after the kernel")
    p.set_defaults(run=run)


def run(args) -> int:
    arg = parse_int(args.arg, "--arg", INT_MIN, WORD_MAX) & WORD_MAX
    budget = budget_option(args)
    if args.svg:
        check_output(args.svg)
    loads = (args.load, parse_cflags(args.cflags))
    result = walk(args.fn, arg, budget, args.via, args.syntax, loads)
    if args.svg:
        write_walk_svg(result, args.svg)
    print(json.dumps(as_json(result), indent=1) if args.json else "\n".join(as_text(result)))
    if result.stopped:
        complain("walk", result.stopped)
        return 1
    return 0


def as_json(w) -> dict:
    steps = [{"addr": s.addr, "symbol": s.symbol, "insn": s.insn,
              "regs": {r: s.regs[r] for r in REG_ORDER}} for s in w.steps]  # fmt: skip
    tail = [{"addr": s.addr, "symbol": s.symbol, "insn": s.insn} for s in w.tail]
    return {
        "task": w.task,
        "fn": w.fn,
        "arg": w.arg,
        "pt_regs": w.child_regs,
        "steps": steps,
        "skipped": w.skipped,
        "tail": tail,
        "events": w.events,
        "exit_code": w.exit_code,
        "log": w.log,
        "stopped": w.stopped,
    }


def as_text(w) -> list[str]:
    t = w.task
    if w.via == "kthread_create":
        lines = [
            f'kthread_run({w.fn_name} = {w.fn:#010x}, {w.arg:#x}, "walker") on a booted machine:'
        ]
        lines += ["  " + e for e in w.events]
    else:
        lines = [
            f"kernel_thread({w.fn_name} = {w.fn:#010x}, {w.arg:#x}, "
            f"CLONE_FS|CLONE_FILES|SIGCHLD = {WALK_FLAGS:#x}) called by swapper (pid 0) on CPU 0"
        ]
    lines.append(f"The pt_regs kernel_thread built, on the parent's stack at {w.built_at:08x}:")
    lines += ["  " + line for line in w.built_lines]
    lines += [
        f"do_fork -> pid {t['pid']}: stack {t['stack']:08x}, "
        f"thread.sp {t['thread_sp']:08x} (stack+{t['thread_sp'] - t['stack']:#x}), "
        f"thread.ip {t['thread_ip']:08x}",
        "",
        "The child, from its first instruction to do_exit (registers each instruction changed):",
    ]
    lines += _step_lines(w.steps)
    if w.skipped:
        lines.append(f"  ... {w.skipped} more instructions ...")
    lines += [f"  {s.addr:08x} {s.symbol:<26} {s.insn}".rstrip() for s in w.tail]
    lines += [""] + w.log
    lines.append(exit_line(w))
    return lines


def exit_line(w) -> str:
    """The exit code as the kernel's int, signed and in hex; or why there is none."""
    if w.exit_code is not None:
        return f"exit code: {w.exit_code} ({w.exit_code & WORD_MAX:#x})"
    if w.stopped:
        return "exit code: none: the thread never exited (stopped, see below)"
    return "exit code: none: the thread never exited (every CPU went idle with it alive)"


def _step_lines(steps) -> list[str]:
    out = []
    for i, step in enumerate(steps):
        after = steps[i + 1].regs if i + 1 < len(steps) else step.regs
        changed = " ".join(
            f"{r}={after[r]:08x}" for r in REG_ORDER if r != "eip" and after[r] != step.regs[r]
        )
        out.append(f"  {step.addr:08x} {step.symbol:<26} {step.insn:<40} {changed}".rstrip())
    if steps:
        first = steps[0].regs
        out.insert(0, "  first: " + " ".join(f"{r}={first[r]:08x}" for r in REG_ORDER))
    return out
