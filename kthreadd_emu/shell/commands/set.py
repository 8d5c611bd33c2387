"""set and its subcommands: settings, and writes to memory and registers."""

from debugger import registers as rg
from debugger.expr import CInt, Pointer
from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import Registry, command, expression_words

SET = Registry("set")


@command("set", category="data", subcommands=SET,
         complete=lambda shell: SET.words() + [f"${r}" for r in rg.GDB_ORDER])  # fmt: skip
def do_set(shell, rest):
    """Write to a register or memory, or change a setting.
    Usage: set $REG = VALUE
           set SUBCOMMAND ARGS"""
    word, _, args = rest.strip().partition(" ")
    if word.startswith("$"):
        set_variable(shell, rest)
    elif not word:
        raise CommandError("Argument required (expression to compute).")
    else:
        SET.resolve(word).run(shell, args.strip())


@SET.command("variable", aliases=("var",), complete=expression_words)
def set_variable(shell, args):
    """Write VALUE to the memory LVALUE names.
    Usage: set variable LVALUE = VALUE

    As many bytes as LVALUE's type has (a field, *ADDR, *(char *)ADDR: one),
    into code too: the next instructions run what it wrote.  set var $REG =
    VALUE is set $REG = VALUE."""
    left, eq, right = args.partition("=")
    if not eq or not left.strip() or not right.strip() or right.startswith("="):
        raise CommandError("usage: set var LVALUE = VALUE")
    if left.strip().startswith("$"):
        set_register(shell, left.strip(), right)
        return
    addr = shell.lvalue(left)
    target = shell.value(left)
    if isinstance(target, bytes) or not isinstance(target, int | Pointer):
        raise CommandError(f"set var: {left.strip()} is not a number or a pointer")
    size = target.ctype.size if isinstance(target, CInt) else 4
    word = shell.number(right) & ((1 << 8 * size) - 1)
    shell.need_engine().write_memory(addr, word.to_bytes(size, "little"))


def set_register(shell, name: str, right: str) -> None:
    """``set $REG = VALUE``: the selected task's live register, on the CPU it runs
    on (the engine refuses a switched-out task's, and a change of a segment
    register)."""
    reg = rg.resolve(name)
    value = shell.number(right) & 0xFFFFFFFF
    if value != shell.regs()[reg]:
        shell.need_engine().write_register(reg, value, shell.pid)


@SET.command("disassembly-flavor", complete=lambda shell: ["att", "intel"])
def set_disassembly_flavor(shell, args):
    """Set how disassembly reads: att (the default) or intel.
    Usage: set disassembly-flavor att|intel"""
    shell.dis.flavor = choice(args, ("att", "intel"))


@SET.command("context", complete=lambda shell: ["on", "off"])
def set_context(shell, args):
    """Show the context view after every stop, or not.
    Usage: set context on|off"""
    shell.s.context_on = choice(args, ("on", "off")) == "on"


def choice(args: str, values: tuple[str, ...]) -> str:
    """One of ``values``, as gdb's enum settings take it."""
    if not args:
        raise CommandError(f"Requires an argument. Valid arguments are {', '.join(values)}.")
    if args not in values:
        raise CommandError(f'Undefined item: "{args}".')
    return args


def ignored(shell, args):
    """A setting gdb scripts set, with nothing to do here.
    Usage: set NAME VALUE"""


for _name in ("confirm", "pagination", "height", "width"):
    SET.command(_name)(ignored)
