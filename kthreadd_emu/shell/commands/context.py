"""context: the view shown after every stop."""

from kthreadd_emu.shell.registry import command


@command("context", category="kernel")
def do_context(shell, rest):
    """Show the context view: registers, code, stack and task.
    Usage: context

    The registers (*: changed since the last stop), the code at EIP, the top of
    the stack (each word named when it points into code, at a task_struct, a
    pt_regs frame or a stack) and the task.  It is shown after every stop, unless
    set context off."""
    shell.show_context()
