"""Call frame information as GNU as makes it (gas/dw2gencfi.c): `.cfi_*` to CIEs
and FDEs in `.eh_frame` and/or `.debug_frame`, and to the unwind rows they mean.

Each section (and subsection) has its own open frame, from `.cfi_startproc` to
`.cfi_endproc`.  `.cfi_startproc` (without `simple`) starts with i386's initial
rules: CFA = %esp + 4, return address (column 8) at CFA - 4.  A directive at
another place than the frame's last one (another offset, or another fragment:
past an alignment or a relaxable branch) is preceded by an advance_loc, which
writes nothing when the place is the same address.  `.cfi_rel_offset` is
`.cfi_offset` less the CFA offset so far, `.cfi_adjust_cfa_offset` a
def_cfa_offset of it plus the offset so far; remember/restore_state save and
restore that offset too.

A frame's instructions up to its first advance (or remember_state, or escape)
may go to its CIE: the newest earlier CIE whose instructions begin them, with the
same return column and signal-frame mark, is shared (the FDE keeps the rest),
else a new CIE takes them all, written just before the FDE.
`.eh_frame` CIEs have augmentation "zR" ("zRS" for a signal frame) and FDE
pointers pc-relative 4-byte (0x1b); `.debug_frame` has CIE id 0xffffffff, no
augmentation, absolute addresses.  Data alignment is -4, code alignment 1, each
entry padded to 4 bytes with DW_CFA_nop.  `.cfi_sections` picks the sections
(`.eh_frame` when none is named).

Where this differs from GNU as: GNU as writes the frames of code in a section
group (gcc's `__x86.get_pc_thunk.*`) to an `.eh_frame` of that group, which ld
then joins after the others; here every frame is in one `.eh_frame`, in source
order (the same rows).  `.cfi_personality`, `.cfi_lsda` and
`.cfi_val_encoded_addr` (relocations into other sections) are refused.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ._errors import SourceError
from ._items import leb128

RETURN_COLUMN, DATA_ALIGN = 8, -4
# DWARF register numbers of i386 (the SysV psABI), as GNU as reads `.cfi_*` operands.
REGISTERS = {
    name: number
    for number, name in enumerate("eax ecx edx ebx esp ebp esi edi eip eflags trapno".split())
}
REGISTERS.update({f"st{i}": 11 + i for i in range(8)})
REGISTERS.update({f"xmm{i}": 21 + i for i in range(8)})
REGISTERS.update({f"mm{i}": 29 + i for i in range(8)})
REGISTERS.update(
    {"fcw": 37, "fsw": 38, "mxcsr": 39, "es": 40, "cs": 41, "ss": 42, "ds": 43, "fs": 44}
)
REGISTERS.update({"gs": 45, "tr": 48, "ldtr": 49})

_ADVANCE, _OFFSET, _RESTORE = 0x40, 0x80, 0xC0
_NOP, _OFFSET_EXTENDED, _RESTORE_EXTENDED, _UNDEFINED, _SAME_VALUE = 0, 5, 6, 7, 8
_REGISTER, _REMEMBER, _RESTORE_STATE, _DEF_CFA, _DEF_CFA_REGISTER = 9, 0xA, 0xB, 0xC, 0xD
_DEF_CFA_OFFSET, _OFFSET_EXTENDED_SF, _DEF_CFA_SF, _DEF_CFA_OFFSET_SF = 0xE, 0x11, 0x12, 0x13
_ADVANCE1, _ADVANCE2, _ADVANCE4, _WINDOW_SAVE = 2, 3, 4, 0x2D
# The directives that read operands, and how many.
_OPERANDS = {
    "def_cfa": 2, "def_cfa_register": 1, "def_cfa_offset": 1, "adjust_cfa_offset": 1,
    "offset": 2, "rel_offset": 2, "register": 2, "same_value": 1, "return_column": 1,
    "remember_state": 0, "restore_state": 0, "signal_frame": 0, "window_save": 0,
}  # fmt: skip
_REFUSED = ("personality", "lsda", "val_encoded_addr", "personality_id", "inline_lsda")


@dataclass(frozen=True)
class FrameRow:
    """From `addr` on: the CFA is `cfa_register` + `cfa_offset`, and each saved
    register's rule: ("offset", N) (saved at CFA + N), ("register", R),
    ("undefined",) or ("same_value",)."""

    addr: int
    cfa_register: int
    cfa_offset: int
    rules: tuple[tuple[int, tuple], ...] = ()


@dataclass(frozen=True)
class Frame:
    """One FDE: the code it covers, [start, end), and its rows."""

    start: int
    end: int
    rows: tuple[FrameRow, ...]
    signal_frame: bool = False


def register(text: str) -> int:
    """A `.cfi_*` register operand: a DWARF number, or a name with or without `%`."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    name = text[1:] if text.startswith("%") else text
    if name not in REGISTERS:
        raise SourceError(f"bad register expression '{text}'")
    return REGISTERS[name]


@dataclass
class Directive:
    """A `.cfi_*` directive (or startproc/endproc) where it lands in the layout."""

    name: str
    operands: list  # registers as ints, numbers as expression nodes
    chain: tuple[str, int]  # the section and subsection whose frame it belongs to

    def emit(self, p) -> bytes:
        p.cfi.directive(self, p)
        return b""


@dataclass
class FrameData:
    """An FDE being laid out: its instructions, each ("advance", from, to) or a tuple."""

    start: int
    simple: bool
    insns: list = field(default_factory=list)
    end: int | None = None
    return_column: int = RETURN_COLUMN
    signal_frame: bool = False


class Unwind:
    """`.cfi_*` while reading: GNU as's checks, and the directives to place."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, int], int] = {}  # chain -> remembered states
        self.sections: set[str] = set()
        self.count = 0  # frames so far: GNU as writes them in the source's order

    def directive(self, word: str, args: list[str], chain, expr) -> list:
        name = word[len(".cfi_") :]
        if name == "sections":
            return self.choose_sections(args)
        if name == "startproc":
            if chain in self.open:
                raise SourceError("previous CFI entry not closed (missing .cfi_endproc)")
            if args and args != ["simple"]:
                raise SourceError(f"junk '{args[0]}' after '.cfi_startproc'")
            self.open[chain] = 0
            self.count += 1
            return [Directive(name, [bool(args), self.count], chain)]
        if name in _REFUSED:
            raise SourceError(f"'{word}' is not supported (a relocation to another section)")
        if name not in (*_OPERANDS, "endproc", "restore", "undefined", "escape"):
            raise SourceError(f"unknown CFI directive '{word}'")
        if chain not in self.open:
            raise SourceError(f"CFI instruction '{word}' used without previous .cfi_startproc")
        if name == "endproc":
            del self.open[chain]
            return [Directive(name, [], chain)]
        if name == "remember_state":
            self.open[chain] += 1
        elif name == "restore_state":
            if not self.open[chain]:
                raise SourceError("CFI state restore without previous remember")
            self.open[chain] -= 1
        return [Directive(name, self.operands(name, args, expr), chain)]

    def operands(self, name: str, args: list[str], expr) -> list:
        if name in ("restore", "undefined"):
            if not args or not all(args):
                raise SourceError(f"'.cfi_{name}' needs registers")
            return [register(arg) for arg in args]
        if name == "escape":
            return [expr(arg) for arg in args]
        count = _OPERANDS[name]
        if len(args) != count:
            raise SourceError(f"'.cfi_{name}' takes {count} operand{'s' * (count != 1)}")
        registers = _registers(name)
        return [register(arg) for arg in args[:registers]] + [expr(arg) for arg in args[registers:]]

    def choose_sections(self, args: list[str]) -> list:
        names = {arg.strip() for arg in args}
        if not names or names - {".eh_frame", ".debug_frame"}:
            raise SourceError(f"'.cfi_sections' takes .eh_frame and/or .debug_frame, not {args}")
        self.sections = names
        return []

    def finish(self) -> None:
        if self.open:
            raise SourceError("open CFI at the end of file; missing .cfi_endproc directive")

    @property
    def outputs(self) -> set[str]:
        return self.sections or {".eh_frame"}


class PassFrames:
    """The frames one layout pass laid out, with their instructions' places."""

    def __init__(self) -> None:
        self.started: dict[int, FrameData] = {}  # by their order in the source
        self.open: dict[tuple[str, int], tuple[FrameData, list]] = {}  # chain -> (frame, place)

    @property
    def frames(self) -> list[FrameData]:
        return [self.started[index] for index in sorted(self.started)]

    def directive(self, item: Directive, p) -> None:
        name, operands = item.name, item.operands
        if name == "startproc":
            frame = FrameData(p.addr, operands[0])
            place = [p.frag, p.addr, 0 if operands[0] else 4, []]  # frag, addr, cfa offset, saved
            if not operands[0]:
                frame.insns += [("def_cfa", 4, 4), ("offset", RETURN_COLUMN, -4)]
            self.started[operands[1]] = frame
            self.open[item.chain] = (frame, place)
            return
        frame, place = self.open[item.chain]
        if name == "endproc":
            frame.end = p.addr
            del self.open[item.chain]
            return
        if (p.frag, p.addr) != (place[0], place[1]):
            frame.insns.append(("advance", place[1], p.addr))
            place[0], place[1] = p.frag, p.addr
        registers = _registers(name)
        values = operands[:registers] + [
            p.constant(op, f".cfi_{name} operand") for op in operands[registers:]
        ]
        _apply(frame, place, name, values)


_REGISTER_OPERANDS = {"def_cfa": 1, "def_cfa_register": 1, "offset": 1, "rel_offset": 1,
                      "register": 2, "same_value": 1, "return_column": 1}  # fmt: skip


def _registers(name: str) -> int:
    """How many of a directive's first operands are registers (all, for restore/undefined)."""
    return 99 if name in ("restore", "undefined") else _REGISTER_OPERANDS.get(name, 0)


def _apply(frame: FrameData, place: list, name: str, values: list) -> None:
    insns = frame.insns
    if name == "def_cfa":
        insns.append(("def_cfa", values[0], values[1]))
        place[2] = values[1]
    elif name == "def_cfa_offset" or name == "adjust_cfa_offset":
        offset = values[0] + (place[2] if name == "adjust_cfa_offset" else 0)
        insns.append(("def_cfa_offset", offset))
        place[2] = offset
    elif name == "offset":
        insns.append(("offset", values[0], values[1]))
    elif name == "rel_offset":
        insns.append(("offset", values[0], values[1] - place[2]))
    elif name in ("restore", "undefined"):
        insns += [(name, reg) for reg in values]
    elif name in ("def_cfa_register", "same_value", "register"):
        insns.append((name, *values))
    elif name == "remember_state":
        insns.append(("remember_state",))
        place[3].append(place[2])
    elif name == "restore_state":
        insns.append(("restore_state",))
        place[2] = place[3].pop()
    elif name == "return_column":
        frame.return_column = values[0]
    elif name == "signal_frame":
        frame.signal_frame = True
    elif name == "window_save":
        insns.append(("window_save",))
    elif name == "escape":
        insns.append(("escape", bytes(value & 0xFF for value in values)))


_CIE_STOP = ("advance", "remember_state", "escape")


def frame_sections(frames: list[FrameData], outputs: set[str], eh_address: int) -> dict:
    """`.eh_frame` (placed at `eh_address`) and/or `.debug_frame` (at 0) for the frames."""
    out = {}
    for name in sorted(outputs):
        out[name] = _section(frames, name == ".eh_frame", eh_address if name == ".eh_frame" else 0)
    return out


def _section(frames: list[FrameData], eh: bool, base: int) -> bytes:
    data = bytearray()
    cies: list[tuple[tuple, int]] = []  # (key, offset); the newest is tried first
    for frame in frames:
        head = []
        for insn in frame.insns:
            if insn[0] in _CIE_STOP:
                break
            head.append(insn)
        kind = (frame.return_column, frame.signal_frame)
        found = next(
            ((offset, len(known)) for (sort, known), offset in reversed(cies)
             if sort == kind and tuple(head[: len(known)]) == known),
            None,
        )  # fmt: skip
        if found is None:
            found = (len(data), len(head))
            cies.append(((kind, tuple(head)), len(data)))
            data += _cie(frame, head, eh)
        offset, first = found
        data += _fde(frame, frame.insns[first:], offset, eh, base + len(data), len(data))
    return bytes(data)


def _padded(body: bytes) -> bytes:
    body += bytes(-(len(body) + 4) % 4)  # DW_CFA_nop
    return struct.pack("<I", len(body)) + body


def _cie(frame: FrameData, head: list, eh: bool) -> bytes:
    body = struct.pack("<I", 0 if eh else 0xFFFFFFFF) + b"\x01"
    body += (b"zR" if eh else b"") + (b"S" if frame.signal_frame else b"") + b"\0"
    body += leb128(1, False) + leb128(DATA_ALIGN, True) + bytes((frame.return_column,))
    if eh:
        body += leb128(1, False) + b"\x1b"  # the FDE pointer: pc-relative, signed 4 bytes
    body += b"".join(_encode(insn) for insn in head)
    return _padded(body)


def _fde(frame: FrameData, insns: list, cie: int, eh: bool, address: int, offset: int) -> bytes:
    if eh:
        pointer = offset + 4 - cie
        start = (frame.start - (address + 8)) & 0xFFFFFFFF
    else:
        pointer, start = cie, frame.start & 0xFFFFFFFF
    body = struct.pack("<III", pointer, start, frame.end - frame.start)
    body += leb128(0, False) if eh else b""
    body += b"".join(_encode(insn) for insn in insns)
    return _padded(body)


def _encode(insn: tuple) -> bytes:
    kind = insn[0]
    if kind == "advance":
        delta = insn[2] - insn[1]
        if delta == 0:
            return b""
        if delta < 0x40:
            return bytes((_ADVANCE | delta,))
        if delta < 0x100:
            return bytes((_ADVANCE1, delta))
        if delta < 0x10000:
            return bytes((_ADVANCE2,)) + struct.pack("<H", delta)
        return bytes((_ADVANCE4,)) + struct.pack("<I", delta)
    if kind == "def_cfa":
        if insn[2] < 0:
            return bytes((_DEF_CFA_SF,)) + _uleb(insn[1]) + leb128(insn[2] // DATA_ALIGN, True)
        return bytes((_DEF_CFA,)) + _uleb(insn[1]) + _uleb(insn[2])
    if kind == "def_cfa_offset":
        if insn[1] < 0:
            return bytes((_DEF_CFA_OFFSET_SF,)) + leb128(insn[1] // DATA_ALIGN, True)
        return bytes((_DEF_CFA_OFFSET,)) + _uleb(insn[1])
    if kind == "offset":
        reg, scaled = insn[1], insn[2] // DATA_ALIGN
        if scaled < 0:
            return bytes((_OFFSET_EXTENDED_SF,)) + _uleb(reg) + leb128(scaled, True)
        if reg < 64:
            return bytes((_OFFSET | reg,)) + _uleb(scaled)
        return bytes((_OFFSET_EXTENDED,)) + _uleb(reg) + _uleb(scaled)
    if kind == "restore":
        return (
            bytes((_RESTORE | insn[1],))
            if insn[1] < 64
            else bytes((_RESTORE_EXTENDED,)) + _uleb(insn[1])
        )
    simple = {"def_cfa_register": _DEF_CFA_REGISTER, "undefined": _UNDEFINED,
              "same_value": _SAME_VALUE, "register": _REGISTER}  # fmt: skip
    if kind in simple:
        return bytes((simple[kind],)) + b"".join(_uleb(value) for value in insn[1:])
    if kind == "escape":
        return insn[1]
    return bytes(({"remember_state": _REMEMBER, "restore_state": _RESTORE_STATE,
                   "window_save": _WINDOW_SAVE}[kind],))  # fmt: skip


def _uleb(value: int) -> bytes:
    return leb128(value, False)


def tables(frames: list[FrameData]) -> tuple[Frame, ...]:
    """The unwind rows each frame's instructions mean (what readelf --debug-dump=frames
    prints as its table; an escape's bytes are not interpreted)."""
    out = []
    for frame in frames:
        rows: list[FrameRow] = []
        cfa, rules, stack, initial = [4, 4], {}, [], None
        addr = frame.start
        for insn in frame.insns:
            kind = insn[0]
            if kind in _CIE_STOP and initial is None:
                initial = dict(rules)
            if kind == "advance":
                if insn[2] != addr:
                    rows.append(FrameRow(addr, *cfa, tuple(sorted(rules.items()))))
                    addr = insn[2]
            elif kind == "def_cfa":
                cfa = [insn[1], insn[2]]
            elif kind == "def_cfa_register":
                cfa[0] = insn[1]
            elif kind == "def_cfa_offset":
                cfa[1] = insn[1]
            elif kind == "offset":
                rules[insn[1]] = ("offset", insn[2])
            elif kind == "register":
                rules[insn[1]] = ("register", insn[2])
            elif kind in ("undefined", "same_value"):
                rules[insn[1]] = (kind,)
            elif kind == "restore":
                base = initial if initial is not None else {}
                if insn[1] in base:
                    rules[insn[1]] = base[insn[1]]
                else:
                    rules.pop(insn[1], None)
            elif kind == "remember_state":
                stack.append((list(cfa), dict(rules)))
            elif kind == "restore_state" and stack:
                cfa, rules = stack.pop()
        rows.append(FrameRow(addr, *cfa, tuple(sorted(rules.items()))))
        out.append(Frame(frame.start, frame.end, tuple(rows), frame.signal_frame))
    return tuple(out)
