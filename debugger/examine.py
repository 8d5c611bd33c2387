"""Memory and code as gdb shows them: ``x/NFU``, ``disassemble``, ``info
symbol``.  Instructions are decoded by emu/disasm.py (the one disassembler)
and cached per address and flavour, checked against the code bytes."""

from dataclasses import dataclass

from debugger.gdbfmt import c_string, parse_fmt, scalar, symbolic
from emu.disasm import Insn, disassemble_one
from emu.memory import BadAddress

PER_LINE = {1: 8, 2: 8, 4: 4, 8: 2}
MAX_COUNT = 4096  # x/N: bounded, one screenful is far less
MAX_STRING = 4096


class ExamineError(Exception):
    """gdb's one-line refusal (bad format, unmapped memory)."""


def cannot_access(addr: int) -> ExamineError:
    return ExamineError(f"Cannot access memory at address {addr & 0xFFFFFFFF:#x}")


def read(mem, addr: int, size: int) -> bytes:
    try:
        return mem.read(addr & 0xFFFFFFFF, size)
    except BadAddress:
        raise cannot_access(addr) from None


def read_upto(mem, addr: int, size: int) -> bytes:
    """Up to ``size`` bytes from ``addr``, fewer at the end of RAM."""
    addr &= 0xFFFFFFFF
    if not mem.contains(addr):
        raise cannot_access(addr)
    return mem.read(addr, min(size, mem.map.end - addr))


@dataclass
class Examine:
    """gdb remembers the last format and size of ``x``, and where it stopped."""

    fmt: str = "x"
    size: int = 4
    next_addr: int | None = None


class Disassembly:
    """Decoded instructions by (address, flavour): the context view redraws the
    same few instructions after every step.  An entry is used only while the
    code bytes are unchanged (guest code may write code)."""

    def __init__(self, kern):
        self.kern = kern
        self.flavor = "att"
        self._cache: dict[tuple[int, str], tuple[bytes, Insn]] = {}

    def at(self, addr: int) -> Insn:
        name = self.kern.machine.python_functions.get(addr)
        if name is not None:
            return Insn(addr, 1, f"[python] {name}")
        code = read_upto(self.kern.mem, addr, 16)
        key = (addr, self.flavor)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == code:
            return cached[1]
        insn = disassemble_one(code, addr, self.flavor, self.kern.symbols)
        self._cache[key] = (code, insn)
        return insn

    def run(self, addr: int, count: int) -> list[Insn]:
        out = []
        for _ in range(count):
            insn = self.at(addr)
            out.append(insn)
            addr += insn.size
        return out


def gdb_insn_text(insn: Insn) -> str:
    """gdb's ``push   %eax``: the mnemonic padded to 6 columns."""
    mnemonic, _, operands = insn.text.partition(" ")
    return f"{mnemonic:<6} {operands}".rstrip() if operands else mnemonic


def insn_line(symbols, insn: Insn, pc: int | None) -> str:
    mark = "=> " if insn.addr == pc else "   "
    return f"{mark}{insn.addr:#x}{symbolic(symbols, insn.addr)}:\t{gdb_insn_text(insn)}"


def examine(kern, dis: Disassembly, state: Examine, spec: str, addr: int | None, pc: int):
    """``x/spec addr``: the lines gdb prints; ``state`` keeps format, size, next address."""
    count, fmt, size = parse_fmt(spec) if spec else (None, None, None)
    count = 1 if count is None else count
    if not 1 <= count <= MAX_COUNT:
        raise ExamineError(f"x: the count must be between 1 and {MAX_COUNT}")
    if addr is None:
        if state.next_addr is None:
            raise ExamineError("Argument required (starting display address).")
        addr = state.next_addr
    fmt = fmt or state.fmt
    if fmt == "a":
        size = 4
    size = size or (1 if fmt == "c" else state.size)
    state.fmt = fmt
    if fmt not in "si":
        state.size = size
    if fmt == "i":
        lines, end = _instructions(kern, dis, addr, count, pc)
    elif fmt == "s":
        lines, end = _strings(kern, addr, count)
    else:
        lines, end = _words(kern, addr, count, fmt, size)
    state.next_addr = end
    return lines


def _instructions(kern, dis, addr, count, pc):
    insns = dis.run(addr, count)
    return [insn_line(kern.symbols, i, pc) for i in insns], insns[-1].addr + insns[-1].size


def _strings(kern, addr, count):
    lines = []
    for _ in range(count):
        data = read_upto(kern.mem, addr, MAX_STRING)
        text = data.split(b"\0", 1)[0]
        lines.append(f"{addr:#x}{symbolic(kern.symbols, addr)}:\t{c_string(text)}")
        addr += len(text) + 1
    return lines, addr


def _words(kern, addr, count, fmt, size):
    if fmt == "f" and size not in (4, 8):
        size = 8
    data = read(kern.mem, addr, count * size)
    values = [int.from_bytes(data[i : i + size], "little") for i in range(0, len(data), size)]
    per_line = 2 if fmt == "a" and size == 8 else PER_LINE[size]
    lines = []
    for start in range(0, count, per_line):
        at = addr + start * size
        cells = [
            scalar(v, fmt, size, kern.symbols, pad=fmt in "xot")
            for v in values[start : start + per_line]
        ]
        lines.append(f"{at:#x}{symbolic(kern.symbols, at)}:\t" + "\t".join(cells))
    return lines, addr + count * size


def disassemble(kern, dis: Disassembly, addr: int, pc: int | None) -> list[str]:
    """gdb's ``disassemble``: the whole function holding ``addr``."""
    sym = kern.symbols.lookup(addr)
    if sym is None or sym.kind == "data":
        raise ExamineError(f"No function contains specified address {addr:#x}.")
    lines = [f"Dump of assembler code for function {sym.name}:"]
    at, end = sym.addr, sym.addr + max(sym.size, 1)
    while at < end:
        insn = dis.at(at)
        mark = "=> " if at == pc else "   "
        lines.append(f"{mark}{at:#x} <+{at - sym.addr}>:\t{gdb_insn_text(insn)}")
        at += insn.size
    lines.append("End of assembler dump.")
    return lines


def info_symbol(kern, addr: int) -> str:
    """``kernel_thread_helper + 3 in section .text`` (gdb's words)."""
    sym = kern.symbols.lookup(addr)
    if sym is None:
        return f"No symbol matches {addr:#x}."
    section = {"asm": ".text", "python": ".text (Python kernel function)", "data": ".data"}
    off = addr - sym.addr
    where = f"{sym.name} + {off}" if off else sym.name
    return f"{where} in section {section[sym.kind]}"
