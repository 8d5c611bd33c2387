"""delete: breakpoints and watchpoints."""

from kthreadd_emu.shell.registry import command


@command("delete", category="breakpoints", aliases=("d",))
def do_delete(shell, rest):
    """Delete all or some breakpoints and watchpoints.
    Usage: delete [NUM...]

    Without an argument, all of them."""
    engine = shell.need_engine()
    for n in rest.split() or [None]:
        engine.delete(None if n is None else shell.count(n))
