"""Registers as gdb shows them, and the x86 segmentation state behind the
selectors: each CPU's GDT as it lies in memory, each selector decoded, and
the hidden part of a segment register (base, limit, flags) as the CPU cached
it when the selector was loaded through that GDT."""

import struct
from dataclasses import dataclass

from debugger.gdbfmt import eflags_text, symbolic
from emu.cpu import GPRS, SEGS
from emu.segment import GDT_ENTRIES

# gdb's `info registers` order on i386 and the type of each (int, data_ptr, code_ptr).
GDB_ORDER = GPRS[:4] + ("esp", "ebp", "esi", "edi", "eip", "eflags") + SEGS
POINTERS = ("esp", "ebp")
ALIASES = {"pc": "eip", "sp": "esp", "fp": "ebp", "ps": "eflags"}
CR0_PE = 0x1
# Protected mode without paging (the machine's deviation: no page tables).
CR0 = CR0_PE | 0x10  # PE, ET


class RegisterError(Exception):
    """An unknown register name."""


def register_line(name: str, value: int, symbols) -> str:
    """One line of ``info registers``: gdb's %-15s%-20s%s columns."""
    if name == "eflags":
        natural = eflags_text(value)
    elif name == "eip":
        natural = f"{value:#x}{symbolic(symbols, value)}"
    elif name in POINTERS:
        natural = f"{value:#x}"
    elif name in SEGS:
        natural = str(value)
    else:
        natural = str(value - (1 << 32) if value >> 31 else value)
    return f"{name:<15}{f'{value:#x}':<20}{natural}"


def info_registers(regs: dict, symbols, names=()) -> list[str]:
    """``info registers [REG...]`` (``$eax`` or ``eax``, ``pc``/``sp``/``fp``)."""
    wanted = [resolve(n) for n in names] or list(GDB_ORDER)
    return [register_line(name, regs[name], symbols) for name in wanted]


def resolve(name: str) -> str:
    bare = name.removeprefix("$").lower()
    bare = ALIASES.get(bare, bare)
    if bare not in GDB_ORDER:
        raise RegisterError(f"Invalid register `{name.removeprefix('$')}'")
    return bare


@dataclass(frozen=True)
class Descriptor:
    """One 8-byte GDT entry, decoded (Intel SDM vol. 3, 3.4.5)."""

    raw: int
    base: int
    limit: int  # in bytes, granularity applied
    access: int
    flags: int  # G, D/B, L, AVL (the high nibble of byte 6)

    @classmethod
    def decode(cls, raw: bytes) -> "Descriptor":
        lo, hi = struct.unpack("<II", raw)
        base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000)
        limit = (lo & 0xFFFF) | (hi & 0xF0000)
        flags = (hi >> 20) & 0xF
        if flags & 0x8:  # G: 4 KiB units
            limit = (limit << 12) | 0xFFF
        return cls(lo | hi << 32, base, limit, (hi >> 8) & 0xFF, flags)

    @property
    def present(self) -> bool:
        return bool(self.access & 0x80)

    @property
    def dpl(self) -> int:
        return (self.access >> 5) & 3

    def type_text(self) -> str:
        """``code read/exec``, ``data read/write``, with ``accessed`` when set."""
        if not self.access & 0x10:
            return f"system type {self.access & 0xF:#x}"
        kind = self.access & 0xF
        if kind & 0x8:
            text = "code " + ("read/exec" if kind & 0x2 else "exec-only")
            text += " conforming" if kind & 0x4 else ""
        else:
            text = "data " + ("read/write" if kind & 0x2 else "read-only")
            text += " expand-down" if kind & 0x4 else ""
        return text + (" accessed" if kind & 0x1 else "")

    def flags_text(self) -> str:
        bits = "32-bit" if self.flags & 0x4 else "16-bit"
        return bits + (" 4K-granular" if self.flags & 0x8 else " byte-granular")


def gdt_entries(kern, cpu: int) -> tuple[int, int, list[Descriptor]]:
    """(GDTR base, limit, the descriptors) of CPU ``cpu``, read from its memory."""
    base, limit = kern.machine.cpus[cpu].gdtr
    count = min(GDT_ENTRIES, (limit + 1) // 8)
    raw = kern.mem.read(base, 8 * count)
    return base, limit, [Descriptor.decode(raw[8 * i : 8 * i + 8]) for i in range(count)]


def descriptor_of(kern, cpu: int, selector: int) -> Descriptor | None:
    """What loading ``selector`` on CPU ``cpu`` puts in the segment cache (None:
    the null selector, an LDT selector or one past the GDT's limit)."""
    base, limit = kern.machine.cpus[cpu].gdtr
    index = selector >> 3
    if index == 0 or selector & 0x4 or 8 * index + 7 > limit:
        return None
    return Descriptor.decode(kern.mem.read(base + 8 * index, 8))


def selector_text(selector: int) -> str:
    return f"index {selector >> 3} ({'LDT' if selector & 4 else 'GDT'}) RPL {selector & 3}"


def info_segments(kern, cpu: int, regs: dict) -> list[str]:
    """Each segment register: its selector decoded and the descriptor it names."""
    lines = []
    for name in SEGS:
        sel = regs[name] & 0xFFFF
        d = descriptor_of(kern, cpu, sel)
        head = f"{name}  {sel:#06x}  {selector_text(sel)}"
        if d is None:
            lines.append(f"{head}  (no descriptor: null selector or outside the GDT)")
        else:
            lines.append(
                f"{head}  base {d.base:#010x} limit {d.limit:#010x} "
                f"{d.type_text()} DPL {d.dpl} {d.flags_text()}"
            )
    return lines


def info_gdt(kern, cpu: int) -> list[str]:
    """The present entries of CPU ``cpu``'s GDT, one line each (pwndbg's gdt)."""
    base, limit, entries = gdt_entries(kern, cpu)
    lines = [f"GDT of CPU {cpu} @ {base:#010x}, limit {limit:#x} ({len(entries)} entries)"]
    for index, d in enumerate(entries):
        if not d.present:
            continue
        lines.append(
            f"[{index:2d}] sel {index * 8:#06x}  {d.raw:016x}  base {d.base:#010x} "
            f"limit {d.limit:#010x}  {d.type_text()} DPL {d.dpl} {d.flags_text()}"
        )
    return lines


def hidden_part(kern, cpu: int, name: str, selector: int) -> str:
    d = descriptor_of(kern, cpu, selector)
    if d is None:
        return f"{name}_base       0x0  (unusable: null selector)"
    return (
        f"{name + '_base':<15}{f'{d.base:#x}':<20}limit {d.limit:#x} "
        f"access {d.access:#04x} flags {d.flags:#x} ({d.type_text()}, DPL {d.dpl})"
    )


def info_all_registers(kern, cpu: int, regs: dict) -> list[str]:
    """``info all-registers``: the general registers, then GDTR, CR0 and each
    segment register's hidden part."""
    lines = info_registers(regs, kern.symbols)
    base, limit = kern.machine.cpus[cpu].gdtr
    lines.append(f"{'gdtr':<15}{f'{base:#x}':<20}limit {limit:#x}")
    lines.append(f"{'cr0':<15}{f'{CR0:#x}':<20}[ PE ET ]  (no paging on this machine)")
    lines += [hidden_part(kern, cpu, name, regs[name] & 0xFFFF) for name in SEGS]
    return lines
