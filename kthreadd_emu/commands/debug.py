"""kthreadd-emu debug: the machine under a gdb-like debugger, stopped before
boot (``continue`` boots it)."""

import sys

from debugger.engine import Debugger
from kernel_model.kernel import Kernel
from kernel_model.main import check_profile
from kthreadd_emu.commands.ps import add_machine_options
from kthreadd_emu.debugshell import (
    CommandError,
    Lines,
    Shell,
    plain_lines,
    read_script,
    terminal_lines,
)
from kthreadd_emu.errors import CPUS, SEEDS, UsageError, parse_int
from kthreadd_emu.scenario import DEMO_SOURCE


def add_parser(sub) -> None:
    p = sub.add_parser("debug", help="a gdb-like debugger over the machine, stopped before boot")
    add_machine_options(p)
    p.add_argument("-x", dest="scripts", action="append", default=[], metavar="FILE",
                   help="run the commands of FILE first (may be repeated)")  # fmt: skip
    p.add_argument("--batch", action="store_true",
                   help="exit after the -x files; status 1 if a command failed")  # fmt: skip
    p.add_argument("--load", metavar="FILE.S", help="assemble and load FILE.S after the kernel")
    p.add_argument(
        "--run",
        dest="run_line",
        metavar="LINE",
        help='an assembly test\'s run line, "kthread ROUTINE arg=5"',
    )
    p.set_defaults(run=run)


def make_kernel(args):
    ncpus = parse_int(args.cpus, "--cpus", *CPUS)
    seed = None if args.seed is None else parse_int(args.seed, "--seed", *SEEDS)
    if args.run_line and not args.load:
        raise UsageError("--run needs --load FILE.S (the routine it starts)")
    check_profile(args.profile)
    kern = Kernel(ncpus, seed=seed)
    kern.demo = kern.load_asm(DEMO_SOURCE)
    kern.profile = args.profile
    if args.load:
        kern.load_asm(args.load)
    kern.debug_run = args.run_line  # what `run`/`continue` starts (the engine reads it)
    return kern


def run(args) -> int:
    scripts = []
    for path in args.scripts:
        try:
            scripts += read_script(path)
        except CommandError as err:
            raise UsageError(f"-x {err}") from None
    kern = make_kernel(args)
    shell = Shell(kern, Debugger, batch=args.batch)
    return shell.run(Lines(scripts, interactive_lines(shell, args.batch)))


def interactive_lines(shell, batch):
    """After the -x files: the terminal, standard input, or nothing (--batch)."""
    if batch:
        return
    if sys.stdin.isatty() and sys.stdout.isatty():
        yield from terminal_lines(shell)
    else:
        yield from plain_lines(sys.stdin, echo_prompt=False)
