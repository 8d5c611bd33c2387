"""kthreadd-emu: the command line.  Every subcommand lives in its own module
with ``add_parser(subparsers)`` and ``run(args) -> int``."""

import argparse
import re
import sys

from kthreadd_emu.commands import asm, asmtest, bench, ps, ptregs, stress, walk
from kthreadd_emu.errors import PROG, complain, report

COMMANDS = (walk, ps, ptregs, asm, asmtest, stress, bench)


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
        if command is None and message.endswith("required: command"):
            message = "a command is required: " + ", ".join(
                m.__name__.split(".")[-1] for m in COMMANDS
            )
        raise _ParseError(command, message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    try:
        args, extra = build_parser().parse_known_args(argv)
    except _ParseError as err:
        complain(*err.args)
        return 1
    if extra:
        complain(args.command, f"unrecognized arguments: {' '.join(extra)}")
        return 1
    return report(args.command, args.run, args)


if __name__ == "__main__":
    sys.exit(main())
