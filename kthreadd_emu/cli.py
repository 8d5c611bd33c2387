"""kthreadd-emu: the command line.  Every subcommand lives in its own module
with ``add_parser(subparsers)`` and ``run(args) -> int``."""

import argparse
import sys

from kthreadd_emu.commands import asm, asmtest, bench, ps, ptregs, record, stack, stress, walk
from kthreadd_emu.errors import report

COMMANDS = (walk, ps, ptregs, stack, record, asm, asmtest, stress, bench)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        raise SystemExit(f"kthreadd-emu: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kthreadd-emu", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return report(args.run, args)


if __name__ == "__main__":
    sys.exit(main())
