"""continue, run: let the machine run to the next stop."""

from kthreadd_emu.shell.registry import command


@command("continue", category="running", aliases=("c", "cont"), resumes="cont")
def do_continue(shell, rest):
    """Continue the machine until the next stop.
    Usage: continue

    The next stop is a breakpoint, a watchpoint, a fault, a soft lockup or
    Ctrl-C.  Before boot, continue boots the machine and stops when every CPU
    is idle.  An empty line repeats it."""
    return ()


@command("run", category="running", aliases=("r",), resumes="cont")
def do_run(shell, rest):
    """Start the machine (boot it); on a running machine, as continue.
    Usage: run"""
    return ()
