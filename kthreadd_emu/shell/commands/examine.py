"""x: examine memory, gdb's x/NFU."""

from debugger import examine as xm
from kthreadd_emu.shell.registry import command


@command("x", category="data")
def do_x(shell, rest):
    """Examine memory: x/FMT ADDRESS.
    Usage: x[/NFU] [ADDRESS]

    N is a count, F a format (x d u o t a c f s i), U a size (b h w g), as gdb's;
    the format and size are remembered for the next x, and an x without ADDRESS
    goes on after the last one."""
    spec, addr_text = "", rest
    if rest.startswith("/"):
        spec, _, addr_text = rest[1:].partition(" ")
    addr = shell.address(addr_text) if addr_text.strip() else None
    pc = shell.regs()["eip"]
    shell.say(*xm.examine(shell.kern, shell.dis, shell.s.examine, spec, addr, pc))
