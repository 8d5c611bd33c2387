"""step, next, stepi, nexti: gdb's stepping, by source line or by instruction."""

from kthreadd_emu.shell.registry import command


def counted(shell, rest: str) -> tuple:
    """The engine's arguments for ``[N]``: none, or the count."""
    return (shell.count(rest),) if rest else ()


@command("stepi", category="running", aliases=("si",), resumes="stepi")
def do_stepi(shell, rest):
    """Step one instruction exactly (or N).
    Usage: stepi [N]

    Into calls, and into a Python kernel function a guest instruction reaches."""
    return counted(shell, rest)


@command("nexti", category="running", aliases=("ni",), resumes="nexti")
def do_nexti(shell, rest):
    """Step one instruction, but proceed through subroutine calls.
    Usage: nexti [N]"""
    return counted(shell, rest)


@command("step", category="running", aliases=("s",), resumes="step", by_line=True)
def do_step(shell, rest):
    """Step the machine until it reaches a different source line.
    Usage: step

    In guest code: the next .S line the stepping task reaches; in a Python kernel
    function, its next line.  A call into a Python kernel function is entered."""
    return ()


@command("next", category="running", aliases=("n",), resumes="next", by_line=True)
def do_next(shell, rest):
    """Step the machine, proceeding through subroutine calls.
    Usage: next

    As step, running over the calls the line makes."""
    return ()
