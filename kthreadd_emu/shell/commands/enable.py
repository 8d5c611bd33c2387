"""enable, disable: breakpoints and watchpoints kept, but not stopping."""

from kthreadd_emu.shell.registry import command


@command("enable", category="breakpoints")
def do_enable(shell, rest):
    """Enable some breakpoints and watchpoints.
    Usage: enable NUM..."""
    for n in rest.split():
        shell.need_engine().enable(shell.count(n))


@command("disable", category="breakpoints")
def do_disable(shell, rest):
    """Disable some breakpoints and watchpoints.
    Usage: disable NUM..."""
    for n in rest.split():
        shell.need_engine().disable(shell.count(n))
