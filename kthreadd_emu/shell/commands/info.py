"""info and its subcommands (gdb's prefix command: ``info registers``, ``i r``)."""

from debugger import examine as xm
from debugger import registers as rg
from debugger import tasks
from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import Registry, command, split_command

INFO = Registry("info")
WATCH_TYPES = {"watchpoint": "hw watchpoint", "rwatch": "read watchpoint",
               "awatch": "acc watchpoint"}  # gdb's Type column  # fmt: skip


@command("info", category="status", aliases=("i",), subcommands=INFO)
def do_info(shell, rest):
    """Generic command for showing things about the machine.
    Usage: info SUBCOMMAND [ARGS]"""
    word, args = split_command(rest)
    if not word:
        raise CommandError('"info" must be followed by the name of an info command.')
    INFO.resolve(word).run(shell, args)


@INFO.command("registers", aliases=("r",), complete=lambda shell: list(rg.GDB_ORDER))
def info_registers(shell, args):
    """The integer registers of the selected task.
    Usage: info registers [REG...]

    gdb's columns: the value in hex, then natural (eflags 0x286 [ PF SF IF ]);
    a sleeping task's as task shows them."""
    shell.say(*rg.info_registers(shell.regs(), shell.kern.symbols, args.split()))


@INFO.command("all-registers")
def info_all_registers(shell, args):
    """Every register, with GDTR, CR0 and hidden segment parts.
    Usage: info all-registers

    The hidden base, limit and access of each segment register are read from
    this CPU's GDT through the selector."""
    shell.say(*rg.info_all_registers(shell.kern, shell.cpu, shell.regs()))


@INFO.command("segments")
def info_segments(shell, args):
    """Each segment register's selector and its descriptor.
    Usage: info segments

    The selector's index, TI and RPL, and the GDT descriptor it selects."""
    shell.say(*rg.info_segments(shell.kern, shell.cpu, shell.regs()))


@INFO.command("gdt")
def info_gdt(shell, args):
    """The selected CPU's global descriptor table, the Linux GDT.
    Usage: info gdt"""
    shell.say(*rg.info_gdt(shell.kern, shell.cpu))


@INFO.command("symbol")
def info_symbol(shell, args):
    """Describe what symbol is at location ADDR.
    Usage: info symbol ADDR"""
    if not args:
        raise CommandError("Argument required (address).")
    shell.say(xm.info_symbol(shell.kern, shell.address(args)))


@INFO.command("threads")
def info_threads(shell, args):
    """The kernel's tasks as gdb's table of threads.
    Usage: info threads

    Id = pid, as task (thread) takes it."""
    shell.say(*tasks.info_threads(shell.kern, shell.pid, shell.need_engine().registers))


@INFO.command("breakpoints", aliases=("b",))
def info_breakpoints(shell, args):
    """Status of breakpoints and watchpoints: gdb's table.
    Usage: info breakpoints"""
    shell.say(*points(shell, watch_only=False))


@INFO.command("watchpoints")
def info_watchpoints(shell, args):
    """Status of watchpoints (hw, read, acc watchpoint).
    Usage: info watchpoints"""
    shell.say(*points(shell, watch_only=True))


def points(shell, watch_only: bool) -> list[str]:
    """gdb's table of breakpoints and watchpoints (``watch_only``: of watchpoints)."""
    found = [bp for bp in shell.need_engine().breakpoints
             if not watch_only or bp.kind in WATCH_TYPES]  # fmt: skip
    if not found:
        return ["No watchpoints." if watch_only else "No breakpoints or watchpoints."]
    lines = ["Num     Type            Disp Enb Address    What"]
    for bp in found:
        disp = "del " if bp.temporary else "keep"
        enb = "y" if bp.enabled else "n"
        if bp.kind in WATCH_TYPES:
            what = shell.s.watch_text.get(bp.number, bp.location)
            lines.append(f"{bp.number:<7} {WATCH_TYPES[bp.kind]:<15} {disp} {enb}{'':14}{what}")
        else:
            lines.append(f"{bp.number:<7} breakpoint      {disp} {enb}   {bp.location}")
        if bp.condition:
            lines.append(f"\tstop only if {bp.condition}")
        if bp.hits:
            lines.append(f"\tbreakpoint already hit {bp.hits} time{'s' if bp.hits > 1 else ''}")
    return lines
