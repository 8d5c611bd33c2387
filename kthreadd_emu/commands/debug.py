"""kthreadd-emu debug: the machine under a gdb-like debugger, stopped before
boot (``continue`` boots it)."""

import sys

from debugger.engine import Debugger
from kernel_model.kernel import Kernel
from kernel_model.main import check_profile
from kthreadd_emu.asmtest.run import Execution
from kthreadd_emu.asmtest.runner import DEFAULT_BUDGET, plan_run_line
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
    if args.run_line:
        return prepared_run(args.load, args.run_line, ncpus)
    kern = Kernel(ncpus, seed=seed)
    kern.demo = kern.load_asm(DEMO_SOURCE)
    kern.profile = args.profile
    if args.load:
        kern.load_asm(args.load)
    return kern


def prepared_run(path: str, run_line: str, ncpus: int):
    """The assembly tests' machine (booted, restored to its snapshot) with the file
    loaded and the run line's thread spawned, not yet run: the asmtest machinery's
    own Execution, prepared, so `continue` runs exactly what the test would."""
    machine, plan = plan_run_line(path, run_line, ncpus)
    return Execution(machine, plan, DEFAULT_BUDGET).prepare()


def run(args) -> int:
    scripts = read_scripts(args.scripts)
    return session(make_kernel(args), scripts, args.batch)


def read_scripts(paths) -> list[str]:
    lines = []
    for path in paths:
        try:
            lines += read_script(path)
        except CommandError as err:
            raise UsageError(f"-x {err}") from None
    return lines


def session(kern, scripts, batch, setup=None) -> int:
    """The debugger on ``kern``: the -x lines, then the terminal or stdin.
    ``setup(shell)`` runs first (asmtest --debug sets its breakpoint there)."""
    shell = Shell(kern, Debugger, batch=batch)
    if setup is not None:
        setup(shell)
    return shell.run(Lines(scripts, interactive_lines(shell, batch)))


def interactive_lines(shell, batch):
    """After the -x files: the terminal, standard input, or nothing (--batch)."""
    if batch:
        return
    if sys.stdin.isatty() and sys.stdout.isatty():
        yield from terminal_lines(shell)
    else:
        yield from plain_lines(sys.stdin, echo_prompt=False)
