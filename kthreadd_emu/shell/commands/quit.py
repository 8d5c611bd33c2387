"""quit: end the session."""

from kthreadd_emu.shell.registry import command


@command("quit", category="support", aliases=("q",))
def do_quit(shell, rest):
    """Exit the debugger.
    Usage: quit

    With --batch, the exit status is 1 if a command failed."""
    raise shell.quit_exception()
