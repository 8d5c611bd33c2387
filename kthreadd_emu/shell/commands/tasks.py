"""tasks: ps's tree of the kernel's tasks."""

from debugger.tasks import tasks_listing
from kthreadd_emu.shell.registry import command


@command("tasks", category="kernel")
def do_tasks(shell, rest):
    """The kernel's tasks: ps's tree, with CPU, state and where each sleeps.
    Usage: tasks

    Where a task sleeps is its thread.ip named, and the Python line it waits on."""
    shell.say(*tasks_listing(shell.kern, shell.pid))
