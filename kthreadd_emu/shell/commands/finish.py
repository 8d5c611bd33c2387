"""finish: run until the selected frame returns."""

from kthreadd_emu.shell.registry import command


@command("finish", category="running", aliases=("fin",), resumes="finish")
def do_finish(shell, rest):
    """Execute until the selected stack frame returns.
    Usage: finish

    From a Python kernel function entered by step, back to the guest code after
    the call."""
    frames = shell.need_engine().frames(shell.pid)
    if frames:
        shell.say(f"Run till exit from #0  {frames[0]}")
    return ()
