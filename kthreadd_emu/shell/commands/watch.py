"""watch, rwatch, awatch: stop where an expression's memory is written or read."""

from kthreadd_emu.shell.registry import command

KINDS = {"write": "Hardware watchpoint", "read": "Hardware read watchpoint",
         "access": "Hardware access (read/write) watchpoint"}  # fmt: skip


def watch(shell, rest: str, kind: str) -> None:
    engine = shell.need_engine()
    wp = engine.watch(shell.lvalue(rest), 4, kind)
    shell.s.watch_text[wp.number] = rest.strip()
    shell.say(f"{KINDS[kind]} {getattr(wp, 'number', '')}: {rest}")


@command("watch", category="breakpoints")
def do_watch(shell, rest):
    """Set a watchpoint for an expression: stop when its value changes.
    Usage: watch EXPRESSION

    Where EXPRESSION lives is watched (watch childregs->ax, watch *0xc0909fcc),
    4 bytes of it; a write that leaves the value as it was does not stop."""
    watch(shell, rest, "write")


@command("rwatch", category="breakpoints")
def do_rwatch(shell, rest):
    """Set a read watchpoint for an expression.
    Usage: rwatch EXPRESSION"""
    watch(shell, rest, "read")


@command("awatch", category="breakpoints")
def do_awatch(shell, rest):
    """Set an access (read or write) watchpoint for an expression.
    Usage: awatch EXPRESSION"""
    watch(shell, rest, "access")
