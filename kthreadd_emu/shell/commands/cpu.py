"""cpu: select a CPU (and the task it runs)."""

from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import command


@command("cpu", category="kernel")
def do_cpu(shell, rest):
    """Select CPU N and the task it runs (without N: which CPU is selected).
    Usage: cpu [N]

    Every CPU's idle task has pid 0: cpu N selects CPU N's own.  Before boot only
    CPU 0 is up."""
    ncpus = len(shell.kern.machine.cpus)
    if not rest.strip():
        shell.say(f"[Current CPU is {shell.cpu}]")
        return
    value = shell.value(rest)
    if not isinstance(value, int) or not 0 <= value < ncpus:
        raise CommandError(f"cpu {rest.strip()}: the machine has {ncpus} CPUs (0-{ncpus - 1})")
    current = shell.kern.current_addr(value)
    if not current or not shell.kern.is_task(current):
        raise CommandError(f"cpu {value}: not up yet (before boot only CPU 0 runs; "
                           "continue boots the others)")  # fmt: skip
    shell.select_cpu(value)
    task = shell.task()
    shell.say(f"[Switching to CPU {value}, task {task.pid} ({task.comm.decode(errors='replace')})]")
