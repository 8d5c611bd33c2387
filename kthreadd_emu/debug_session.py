"""A debugger session from the command line: the -x files, then the terminal or
standard input (``kthreadd-emu debug``, and ``asmtest --debug`` at a failure)."""

import sys

from debugger.engine import Debugger
from kthreadd_emu.errors import UsageError
from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.script import Lines, read_script
from kthreadd_emu.shell.shell import Shell
from kthreadd_emu.shell.terminal import plain_lines, terminal_lines


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
