"""break, tbreak: stop where a location is reached (gdb documents them together)."""

from debugger.engine import BreakpointRefused
from debugger.expr import CExpr, ExprError
from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import command


@command("break", category="breakpoints", aliases=("b", "br"))
def do_break(shell, rest, temporary=False):
    """Set breakpoint at specified location.
    Usage: break LOCATION [if CONDITION]

    LOCATION is a symbol (kernel_thread_helper, ret_from_fork+3), an address
    (*0xc01000a7), or a Python kernel function (copy_thread), where a guest
    breakpoint or a Python one is set.  CONDITION is an expression, evaluated on
    the CPU that got there (a Python breakpoint sees the function's locals)."""
    engine = shell.need_engine()
    spec, _, cond = rest.partition(" if ")
    if not spec.strip():
        raise CommandError("Argument required (a location).")
    if cond.strip():
        try:
            CExpr(cond)  # refused here, before the engine sees it
        except ExprError as err:
            raise CommandError(str(err)) from None
    try:
        bp = engine.break_at(spec.strip(), condition=cond.strip() or None, temporary=temporary)
    except BreakpointRefused as err:
        raise CommandError(str(err)) from None
    except (ValueError, KeyError, LookupError) as err:
        raise CommandError(f'Function "{spec.strip()}" not defined. ({err})') from None
    kind = "Temporary breakpoint" if temporary else "Breakpoint"
    shell.say(f"{kind} {bp.number} at {bp.location}")


@command("tbreak", category="breakpoints", aliases=("tb",))
def do_tbreak(shell, rest):
    """Set a temporary breakpoint: deleted when it is hit.
    Usage: tbreak LOCATION [if CONDITION]

    Its hit is "Temporary breakpoint N, ...", as in gdb."""
    do_break(shell, rest, temporary=True)
