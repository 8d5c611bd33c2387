"""print: an expression's value, into the value history."""

from debugger.gdbfmt import parse_fmt
from debugger.values import format_value, historic
from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import command


@command("print", category="data", aliases=("p", "inspect"))
def do_print(shell, rest):
    """Print value of expression EXP.
    Usage: print[/FMT] EXP

    Expressions are C as gdb reads it: $eax ($pc, $sp, $fp), current->comm,
    task(2)->thread.sp, *(int *)$esp, (struct pt_regs *)ADDR, symbols, the
    TASK_* and PT_* offsets, the locals of the Python kernel function stopped
    in (childregs->ax), and the value history $1, $, $$, $$N.  FMT is one of
    x d u o t c a."""
    fmt = None
    if rest.startswith("/"):
        spec, _, rest = rest[1:].partition(" ")
        count, fmt, size = parse_fmt(spec, "xduotca")
        if count not in (None, 1):
            raise CommandError('Item count other than 1 is meaningless in "print" command.')
        if size is not None:
            raise CommandError('Size letters are meaningless in "print" command.')
        if fmt is None:
            raise CommandError(f'Undefined output format "{spec}".')
    if not rest.strip():
        raise CommandError("Argument required (expression to compute).")
    value = shell.value(rest)
    shell.s.history.append(historic(value))
    text = format_value(value, fmt, shell.kern.symbols)
    shell.say(f"${len(shell.s.history)} = {text}")
