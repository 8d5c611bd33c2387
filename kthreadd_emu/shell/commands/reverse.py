"""reverse-stepi, reverse-nexti, reverse-continue, reverse-finish: going back in
time (debugger/timeline.py forks checkpoints; the one taken over runs forward)."""

from kthreadd_emu.shell.commands.stepping import counted
from kthreadd_emu.shell.registry import command


@command("reverse-stepi", category="running", aliases=("rsi",), resumes="reverse_stepi")
def do_reverse_stepi(shell, rest):
    """Step backward exactly one instruction (or N).
    Usage: reverse-stepi [N]"""
    return counted(shell, rest)


@command("reverse-nexti", category="running", aliases=("rni",), resumes="reverse_nexti")
def do_reverse_nexti(shell, rest):
    """Step backward one instruction, proceeding through calls.
    Usage: reverse-nexti [N]"""
    return counted(shell, rest)


@command("reverse-continue", category="running", aliases=("rc",), resumes="reverse_continue")
def do_reverse_continue(shell, rest):
    """Run backward to the last breakpoint or watchpoint hit.
    Usage: reverse-continue

    With none since the session started, at its start: gdb's "No more
    reverse-execution history."."""
    return ()


@command("reverse-finish", category="running", resumes="reverse_finish")
def do_reverse_finish(shell, rest):
    """Execute backward to just before the selected frame was called.
    Usage: reverse-finish"""
    return ()
