"""The context view shown after every stop (pwndbg's, as plain lines): the
registers (``*`` marks those changed since the last stop), the code around
EIP, the top of the stack with what each word points at, and the task.
Only a screenful is rendered; instructions come from the per-address cache.
Colour is a separate step (``style``), off when NO_COLOR is set or output is
not a terminal."""

import os

from debugger.examine import ExamineError, gdb_insn_text
from debugger.gdbfmt import eflags_text, symbolic
from debugger.registers import GDB_ORDER
from debugger.tasks import where
from kernel_model.consts import THREAD_SIZE
from kernel_model.ptrace import pt_regs

CODE_AFTER = 6
STACK_WORDS = 8
RULE = "-" * 20


def section(title: str) -> str:
    return f"{RULE}[ {title} ]{RULE}"


def register_lines(regs: dict, before: dict | None, symbols) -> list[str]:
    lines = []
    for name in GDB_ORDER:
        value = regs[name]
        mark = "*" if before is not None and before.get(name) != value else " "
        if name == "eflags":
            note = " " + eflags_text(value)
        elif name == "eip":
            note = symbolic(symbols, value)
        else:
            note = ""
        lines.append(f"{mark}{name.upper():<6} {value:#010x}{note}")
    return lines


def code_lines(kern, dis, eip: int) -> list[str]:
    lines = []
    addr = eip
    for i in range(CODE_AFTER):
        try:
            insn = dis.at(addr)
        except ExamineError as err:
            lines.append(f"   {err}")
            break
        mark = " > " if i == 0 else "   "
        lines.append(f"{mark}{addr:#010x}{symbolic(kern.symbols, addr):<28} {gdb_insn_text(insn)}")
        addr += insn.size
    return lines


def word_note(kern, value: int) -> str:
    """What a stack word points at: code (a symbol), a task_struct, a pt_regs
    frame at the top of a stack, or a kernel stack."""
    sym = kern.symbols.lookup(value)
    if sym is not None and kern.is_text(value):
        return f"-> {kern.symbols.describe(value)}"
    tasks = kern.mm.tasks
    if value in tasks.allocated or value == kern.data.init_task.addr:
        task = kern.task(value)
        return f"-> task pid {task.pid} {task.comm.decode(errors='replace')}"
    stacks = kern.mm.stacks
    base = value & ~(THREAD_SIZE - 1)
    if base in stacks.allocated:
        owner = kern.mem.u32(base)  # thread_info.task
        pid = kern.task(owner).pid if owner in tasks.allocated else "?"
        if value == base + THREAD_SIZE - 8 - pt_regs.SIZE:
            return f"-> pt_regs of pid {pid}"
        return f"-> stack of pid {pid} (+{value - base:#x})"
    return ""


def stack_lines(kern, esp: int) -> list[str]:
    lines = []
    for i in range(STACK_WORDS):
        addr = esp + 4 * i
        if not kern.mem.contains(addr, 4):
            lines.append(f"{i * 4:02x}  {addr:#010x}  <unmapped>")
            break
        value = kern.mem.u32(addr)
        label = "esp" if i == 0 else "   "
        lines.append(
            f"{i * 4:02x}  {label} {addr:#010x}  {value:#010x}  {word_note(kern, value)}".rstrip()
        )
    return lines


def task_line(kern, cpu: int, task) -> str:
    if task is None:
        return f"CPU {cpu}  no task"
    comm = task.comm.decode(errors="replace")
    return f"CPU {cpu}  pid {task.pid} {comm}  state {task.state}  {where(kern, task)}"


def context(kern, dis, regs: dict, before: dict | None, cpu: int, task) -> list[str]:
    """The whole view, about 40 lines."""
    return [
        section("REGISTERS"),
        *register_lines(regs, before, kern.symbols),
        section("DISASM"),
        *code_lines(kern, dis, regs["eip"]),
        section("STACK"),
        *stack_lines(kern, regs["esp"]),
        section("TASK"),
        task_line(kern, cpu, task),
    ]


BOLD_CYAN, RED, RESET = "\x1b[1;36m", "\x1b[31m", "\x1b[0m"


def use_colour(stream) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def style(lines: list[str], colour: bool) -> list[str]:
    """Colour the section rules and the changed registers (nothing when off)."""
    if not colour:
        return lines
    out = []
    for line in lines:
        if line.startswith(RULE):
            out.append(BOLD_CYAN + line + RESET)
        elif line.startswith("*"):
            out.append(RED + line + RESET)
        else:
            out.append(line)
    return out
