"""output: an expression's value, kept out of the value history."""

from debugger.values import format_value
from kthreadd_emu.shell.registry import command


@command("output", category="data")
def do_output(shell, rest):
    """Like print, but don't put in value history.
    Usage: output EXP"""
    shell.say(format_value(shell.value(rest), None, shell.kern.symbols))
