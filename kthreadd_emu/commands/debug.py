"""kthreadd-emu debug: the machine under a gdb-like debugger, stopped before
boot (``continue`` boots it)."""

from kthreadd_emu.debug_session import read_scripts, session
from kthreadd_emu.options import (
    add_load_option,
    add_machine_options,
    add_run_option,
    unbooted_machine,
)


def add_parser(sub) -> None:
    p = sub.add_parser("debug", help="a gdb-like debugger over the machine, stopped before boot")
    add_machine_options(p)
    p.add_argument("-x", dest="scripts", action="append", default=[], metavar="FILE",
                   help="run the commands of FILE first (may be repeated)")  # fmt: skip
    p.add_argument("--batch", action="store_true",
                   help="exit after the -x files; status 1 if a command failed")  # fmt: skip
    add_load_option(p, "a file loaded after the kernel")
    add_run_option(p, 'an assembly test\'s run line, "kthread ROUTINE arg=5"')
    p.set_defaults(run=run)


def run(args) -> int:
    scripts = read_scripts(args.scripts)
    return session(unbooted_machine(args), scripts, args.batch)
