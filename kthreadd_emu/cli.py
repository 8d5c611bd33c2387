"""kthreadd-emu: the command line.  Every subcommand lives in its own module
with ``add_parser(subparsers)`` and ``run(args) -> int``."""

import argparse
import importlib
import re
import sys

from kthreadd_emu.errors import PROG, complain, report

# The modules of kthreadd_emu/commands/, in the order --help lists them.  Only the
# command being run is imported (with what it needs): the others would cost every
# command their imports (Keystone, Capstone, prompt_toolkit, drawsvg, ...).
COMMANDS = (
    "walk", "ps", "ptregs", "stack", "record", "debug", "gdbserver", "elf",
    "asm", "asmtest", "stress", "bench",
)  # fmt: skip


class _ParseError(Exception):
    """(command or None, argparse's message)."""


class _Parser(argparse.ArgumentParser):
    """argparse's errors as ours: one line naming the command, exit status 1."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A value such as `--arg -0x10` is a number, not an option.
        self._negative_number_matcher = re.compile(r"^-(0[xX][0-9a-fA-F_]+|\d[\d_]*)$")

    def error(self, message):
        command = self.prog.removeprefix(PROG).strip() or None
        if command is None and message.lower().endswith("required: command"):
            message = "a command is required: " + ", ".join(COMMANDS)
        raise _ParseError(command, message)


DESCRIPTION = """\
Watch Linux 2.6.32 (i386, SMP) create kernel threads on an emulated CPU:
kernel_thread builds a real struct pt_regs, do_fork copies it onto the
child's 8 KiB stack, and the child executes ret_from_fork ... iret ...
kernel_thread_helper on Unicorn, instruction by instruction; kthreadd
serves kthread_create requests, and the machine boots like the kernel."""

EPILOG = """\
Start with `kthreadd-emu walk` (a thread's birth, step by step) and
`kthreadd-emu ps` (a booted machine).  `kthreadd-emu COMMAND --help` shows a
command's options.  README.md, at the top of the source tree, and the
documentation in docs/ (`make docs` builds it as a site) explain the machine,
where it deviates from 2.6.32, the trace formats and the assembly-test format."""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse measures subcommand names 2 columns short of where it prints them,
    so a 9-letter name (gdbserver) would wrap its help: measure them where printed."""

    def add_argument(self, action):
        super().add_argument(action)
        for sub in self._iter_indented_subactions(action):
            width = len(self._format_action_invocation(sub)) + self._current_indent
            self._action_max_length = max(self._action_max_length, width)


class _VersionAction(argparse.Action):
    """--version, reading the installed version only when asked (importlib.metadata
    is slow to import, and every command would pay for it)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib import metadata

        try:
            version = metadata.version("kthreadd-emu")
        except metadata.PackageNotFoundError:
            version = "unknown (not installed)"
        print(f"kthreadd-emu {version} (Linux 2.6.32, i386)")
        parser.exit()


def build_parser(argv=None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a command, only that command's module is
    imported and set up (the others are there by name, for argparse's messages)."""
    chosen = _chosen(sys.argv[1:] if argv is None else argv)
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        # Wide enough for each command's help on one line, whatever the terminal.
        formatter_class=lambda prog: _HelpFormatter(prog, width=100),
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, title="commands", metavar="COMMAND"
    )
    for name in COMMANDS:
        if chosen is None or name == chosen:
            importlib.import_module(f"kthreadd_emu.commands.{name}").add_parser(sub)
        else:
            sub.add_parser(name)
    return parser


def _chosen(argv) -> str | None:
    """The command ``argv`` runs: its first word that is not an option."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def main(argv=None) -> int:
    try:
        args, extra = build_parser(argv).parse_known_args(argv)
    except _ParseError as err:
        complain(*err.args)
        return 1
    if extra:
        complain(args.command, f"unrecognized arguments: {' '.join(extra)}")
        return 1
    return report(args.command, args.run, args)


if __name__ == "__main__":
    sys.exit(main())
