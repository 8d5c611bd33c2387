"""ptregs: a struct pt_regs frame, as the kernel's show_regs prints it, or as C or JSON."""

from debugger import examine as xm
from debugger.ptregs import FORMATS
from debugger.tasks import find_task
from kernel_model.process_32 import task_pt_regs
from kernel_model.ptrace import pt_regs
from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import command


@command("ptregs", category="kernel", complete=lambda shell: list(FORMATS))
def do_ptregs(shell, rest):
    """Show a task's struct pt_regs (the top of its stack), or one at ADDR.
    Usage: ptregs [PID|ADDR] [show_regs|struct|json]

    A number up to 0xffff is a pid, a larger one an address; by default the
    selected task's frame, as show_regs prints it."""
    words = rest.split()
    fmt = "show_regs"
    if words and words[-1] in FORMATS:
        fmt = words.pop()
    if len(words) > 1:
        raise CommandError("usage: ptregs [PID|ADDR] [show_regs|struct|json]")
    if not words:
        task = shell.task()
    else:
        n = shell.address(words[0])
        task = None if n > 0xFFFF else find_task(shell.kern, n)
        if task is None:
            frame = pt_regs(shell.kern.mem, n) if shell.kern.mem.contains(n, pt_regs.SIZE) else None
            if frame is None:
                raise xm.cannot_access(n)
            shell.say(*FORMATS[fmt](shell.kern, shell.task(), n, frame.values()))
            return
    frame = task_pt_regs(shell.kern, task)
    shell.say(*FORMATS[fmt](shell.kern, task, frame.addr, frame.values()))
