"""until, advance: run to a location (gdb documents them together)."""

from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import command


@command("until", category="running", aliases=("u",), resumes="until")
def do_until(shell, rest):
    """Execute until past the current line, or until LOCATION.
    Usage: until [LOCATION]"""
    return (rest,) if rest else ()


@command("advance", category="running", resumes="advance")
def do_advance(shell, rest):
    """Continue the machine up to the given location (as break takes it).
    Usage: advance LOCATION

    It also stops when the current frame returns."""
    if not rest:
        raise CommandError("Argument required (a location).")
    return (rest,)
