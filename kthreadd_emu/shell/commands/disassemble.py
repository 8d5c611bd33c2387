"""disassemble: the code of a function, Capstone's AT&T (or Intel) syntax."""

from debugger import examine as xm
from kthreadd_emu.shell.registry import command


@command("disassemble", category="data", aliases=("disas",))
def do_disassemble(shell, rest):
    """Disassemble the function around ADDR (by default, EIP).
    Usage: disassemble [ADDR]

    "=>" marks EIP; set disassembly-flavor intel switches the syntax."""
    pc = shell.regs()["eip"]
    addr = shell.address(rest) if rest.strip() else pc
    shell.say(*xm.disassemble(shell.kern, shell.dis, addr, pc))
