"""backtrace: the selected task's frames."""

from kthreadd_emu.shell.registry import command


@command("backtrace", category="stack", aliases=("bt", "where"))
def do_backtrace(shell, rest):
    """Print the selected task's stack frames, innermost first.
    Usage: backtrace

    The Python kernel functions the task is in, and the guest frames whose
    return addresses are on its stack."""
    frames = shell.need_engine().frames(shell.pid)
    shell.say(*(f"#{i:<2} {frame}" for i, frame in enumerate(frames)))
