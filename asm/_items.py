"""What a statement becomes: items that produce their bytes during a layout pass.

Each item's `emit(p)` returns its bytes at the pass's current address `p.addr`.
Items are re-emitted on every pass until addresses stop moving, so they keep only
what relaxation needs across passes (a branch remembers that it had to grow).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import _branch, _sections
from ._encode import cut32, encode, fits, hex_number
from ._errors import SourceError, UndefinedSymbolError
from ._expr import Node, Val, pc_relative, symbol_plus_number
from ._operands import Operand

if TYPE_CHECKING:
    from ._layout import Pass

MAX_IMAGE = 16 << 20
MAX_ALIGN = 1 << 20

# GNU as's f32_patt: the i386 no-op fillers it uses to align code (tc-i386.c).
_NOPS = {
    1: b"\x90",
    2: b"\x66\x90",
    3: b"\x8d\x76\x00",
    4: b"\x8d\x74\x26\x00",
    5: b"\x8d\x74\x26\x00\x90",
    6: b"\x8d\xb6\x00\x00\x00\x00",
    7: b"\x8d\xb4\x26\x00\x00\x00\x00",
}


def code_padding(count: int) -> bytes:
    """`count` bytes of GNU as i386 code padding: no-ops, or a jump over them if long."""
    head = b""
    if count // 7 > 2:
        if count - 2 <= 0x7F:
            count -= 2
            head = bytes([0xEB, count])
        else:
            count -= 5
            head = b"\xe9" + count.to_bytes(4, "little")
    full, last = divmod(count, 7)
    return head + _NOPS[7] * full + _NOPS.get(last, b"")


def relocatable(val: Val) -> Val:
    """A value that fits in a field: a number, or an address inside the image."""
    if val.sect not in (0, 1):
        raise SourceError("expression is neither a number nor an address in the image plus one")
    return val


@dataclass
class Label:
    name: str

    def emit(self, p: Pass) -> bytes:
        p.define_label(self.name)
        return b""


@dataclass
class Assign:
    name: str
    expr: Node

    def emit(self, p: Pass) -> bytes:
        try:
            val = p.value(self.expr)
        except UndefinedSymbolError as err:
            if err.local or not symbol_plus_number(self.expr):
                raise  # GNU as: "invalid operands (*UND* ...)" when setting it
            p.env.pop(self.name, None)
            p.undefined[self.name] = err
            return b""
        if pc_relative(val):  # only a field can hold `ext - label`, not a symbol
            raise SourceError(
                f"invalid operands (*ABS* and .text sections) for '-' when setting '{self.name}'"
            )
        p.undefined.pop(self.name, None)
        p.env[self.name] = val
        return b""


@dataclass
class SectionStart:
    """Where an input section's statements begin in the image, aligned as GNU ld
    aligns it: the first of its output section to the largest alignment of any of
    the output's inputs, after zeros (the gap between output sections); the others
    to their own, after no-ops in code (`66 90`, and one `90`), zeros elsewhere.  An
    output section with nothing in it is dropped by ld and moves nothing."""

    name: str
    alignment: int
    output: int
    first: bool  # of its output section
    code: bool

    def emit(self, p: Pass) -> bytes:
        p.enter_section(self.name, self.output)
        if self.first and _sections.is_debug(self.output):
            p.addr = 0  # ld puts each DWARF output section at 0, outside the image
        pad = 0 if self.output in p.empty_outputs else (-p.addr) % self.alignment
        p.section_start = p.section_starts[self.name] = p.addr + pad
        if self.first or not self.code:
            return bytes(pad)
        return b"\x66\x90" * (pad // 2) + b"\x90" * (pad % 2)


@dataclass
class OutputEnd:
    """ld's default script ends `.bss` on a 4-byte boundary (`. = ALIGN(4)` inside it)."""

    output: int
    alignment: int

    def emit(self, p: Pass) -> bytes:
        return b"" if self.output in p.empty_outputs else bytes((-p.addr) % self.alignment)


@dataclass
class Check:
    """An expression GNU as must be able to fold to a number (`.size name, .-name`)."""

    expr: Node
    what: str

    def emit(self, p: Pass) -> bytes:
        val = p.value(self.expr)
        if val.sect:
            p.report(f"{self.what} does not evaluate to a constant")
        return b""


@dataclass
class Raw:
    data: bytes

    def emit(self, p: Pass) -> bytes:
        return self.data


@dataclass
class Data:
    """`.byte`/`.word`/`.long`/`.quad`: each value is evaluated where it lands (`.` moves)."""

    width: int
    exprs: list[Node]

    def emit(self, p: Pass) -> bytes:
        start, out = p.addr, bytearray()
        bits = self.width * 8
        for expr in self.exprs:
            p.addr = start + len(out)
            val = p.field(p.value(expr))
            if (val.sect or pc_relative(val)) and self.width == 8:
                raise SourceError("an address in .quad needs a 64-bit relocation (not in ELF32)")
            value = val.value
            if self.width == 8 and val.terms:
                # GNU as resolves what it could not fold while reading in the 32-bit
                # target's arithmetic: an 8-byte field gets it sign-extended.
                value = ((value & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
            # GNU as checks no range for 4 bytes: the low 32 bits, silently.
            if self.width < 4 and not fits(value, bits):
                p.report(f"value {hex_number(value)} does not fit in {bits} bits")
            out += (value & ((1 << bits) - 1)).to_bytes(self.width, "little")
        p.addr = start
        return bytes(out)


def leb128(value: int, signed: bool) -> bytes:
    """DWARF's LEB128 of a 64-bit value (unsigned: its two's complement)."""
    out = bytearray()
    if not signed:
        value &= (1 << 64) - 1
    while True:
        byte, value = value & 0x7F, value >> 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        if not signed:
            done = value == 0
        out.append(byte | (0 if done else 0x80))
        if done:
            return bytes(out)


@dataclass
class Leb128:
    """`.uleb128`/`.sleb128`: numbers (label differences too), each as few bytes as
    its value needs; the size settles with the layout passes."""

    signed: bool
    exprs: list[Node]

    def emit(self, p: Pass) -> bytes:
        out = bytearray()
        for expr in self.exprs:
            val = p.value(expr)
            if val.sect or pc_relative(val):
                word = ".sleb128" if self.signed else ".uleb128"
                raise SourceError(f"{word} of an address is not supported (only of a number)")
            if val.terms:
                p.new_frag(after_alignment=False)
            out += leb128(val.value, self.signed)
        return bytes(out)


@dataclass
class Fill:
    """`.fill repeat, size, value`: like GNU as, size is capped at 8, value's top half zero."""

    repeat: Node
    size: Node | None
    value: Node | None

    def emit(self, p: Pass) -> bytes:
        repeat = p.constant(self.repeat, ".fill repeat count")
        size = min(p.constant(self.size, ".fill size"), 8) if self.size is not None else 1
        value = p.constant(self.value, ".fill value") if self.value is not None else 0
        if repeat <= 0 or size <= 0:
            return b""
        _check_size(repeat * size)
        return (value & 0xFFFFFFFF).to_bytes(8, "little")[:size] * repeat


@dataclass
class Skip:
    """`.skip`/`.space count, fill`.  A count GNU as cannot fold yet (labels defined
    later, `.space end-start`) makes a variable fragment settled by relaxation; a
    negative one is ignored, as GNU as ignores it with a warning."""

    count: Node
    fill: Node | None

    def emit(self, p: Pass) -> bytes:
        val = p.value(self.count)
        if val.sect or pc_relative(val):
            raise SourceError(".skip count must be an absolute expression")
        count = val.value
        if val.terms:
            p.new_frag(after_alignment=False)
            count = max(count, 0)
        fill = p.constant(self.fill, ".skip fill") if self.fill is not None else 0
        if count and not fits(fill, 8):
            raise SourceError(f".skip fill value {hex_number(fill)} does not fit in a byte")
        if count < 0 and not -0x80 <= fill <= 0xFF:
            # GNU as takes this path as a sized fill and refuses the negative size.
            raise SourceError(f"size value for .skip too large: {count & (1 << 64) - 1:x}")
        _check_size(count)
        return bytes([fill & 0xFF]) * max(count, 0)


@dataclass
class Org:
    """`.org target, fill`: fill up to `target`, an offset from the start of the
    current section or a label in it.  As in GNU as, `.org` never moves backwards
    and fixes the address after it, as an alignment does."""

    target: Node
    fill: Node | None

    def emit(self, p: Pass) -> bytes:
        val = p.value(self.target)
        # GNU as keeps the fill's low byte without a warning.
        fill = p.constant(self.fill, ".org fill") if self.fill is not None else 0
        if val.sect not in (0, 1) or p.in_other_section(val):
            raise SourceError(f".org target is not in section '{p.section}'")
        if any(key[2:] not in p.program.sets for key, _ in val.terms if key[:2] == "s:"):
            raise SourceError(".org to a label defined after it is not supported")
        target = val.value if val.sect else p.section_start + val.value
        p.new_frag(after_alignment=True)
        if target < p.addr:
            p.report("attempt to move .org backwards")
            return b""
        _check_size(target - p.addr)
        return bytes([fill & 0xFF]) * (target - p.addr)


def _check_size(count: int) -> None:
    if count > MAX_IMAGE:
        raise SourceError(f"{count} bytes is more than the {MAX_IMAGE}-byte image limit")


@dataclass
class Align:
    """`.align`/`.balign` (bytes) and `.p2align` (power of two).

    Like GNU as in a code section, a missing fill or a fill of 0x90 (nop) gives
    GNU as's multi-byte no-op padding rather than a run of single nops; elsewhere
    a missing fill is zeros.
    """

    power: bool
    alignment: Node
    fill: Node | None
    maximum: Node | None
    width: int = 1  # of the fill pattern: 2 for `.balignw`, 4 for `.balignl`

    def emit(self, p: Pass) -> bytes:
        boundary = self.boundary(p)
        # In an output section ld drops, every alignment stands at its section's start.
        pad = 0 if p.output in p.empty_outputs else (-p.addr) % boundary
        maximum = p.constant(self.maximum, "alignment maximum") if self.maximum else 0
        if 0 < maximum < pad:
            pad = 0
        p.new_frag(after_alignment=True)
        fill = None if self.fill is None else p.constant(self.fill, "alignment fill")
        if fill is None and not p.in_code:
            fill = 0  # GNU as pads only code with no-ops
        if fill is None or (fill == 0x90 and p.in_code and self.width == 1):
            return code_padding(pad)
        if self.width > 1:
            if pad % self.width:
                p.report(f"alignment padding ({pad} bytes) not a multiple of {self.width}")
            pattern = (fill & ((1 << 8 * self.width) - 1)).to_bytes(self.width, "little")
            return pattern * (pad // self.width) + bytes(pad % self.width)
        if not fits(fill, 8):
            raise SourceError(f"alignment fill {hex_number(fill)} does not fit in a byte")
        return bytes([fill & 0xFF]) * pad

    def boundary(self, p: Pass) -> int:
        value = p.constant(self.alignment, "alignment")
        if self.power:
            value = 1 << value if 0 <= value <= 20 else MAX_ALIGN * 2
        if value > MAX_ALIGN:
            raise SourceError(f"alignment {hex_number(value)} is larger than {MAX_ALIGN:#x}")
        if value & (value - 1) or value < 0:
            raise SourceError(f"alignment {value} is not a power of 2")
        return max(value, 1)


@dataclass
class Insn:
    """Any instruction other than a direct branch: encoded through Keystone."""

    mnemonic: str
    operands: list[Operand]
    prefixes: tuple[int, ...]
    # (operand values, bytes, range reports) of the last encoding: most instructions
    # see the same values on every pass, and encoding is the costly part of a pass.
    # One Insn serves every statement of the same text (Program.instruction), so
    # the memo is a cache checked against the values, never a statement's state.
    memo: tuple | None = field(default=None, repr=False, compare=False)
    # Only numbers in its operands: the bytes of the first pass are those of every pass.
    numbers_only: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.numbers_only = all(op.expr is None or type(op.expr) is int for op in self.operands)

    def emit(self, p: Pass) -> bytes:
        if self.numbers_only:
            memo = self.memo
            if memo is None:
                fixed = _numbers_encoding(self.mnemonic, tuple(self.operands), self.prefixes)
                memo = self.memo = (None, *fixed)
            code, reports = memo[1], memo[2]
        else:
            code, reports = self.encoded(p)
        for message in reports:
            p.report(message)
        return code

    def encoded(self, p: Pass) -> tuple[bytes, list[str]]:
        vals = [None if op.expr is None else p.field(p.value(op.expr)) for op in self.operands]
        memo = self.memo  # read once: the same text's Insn serves every copy of it
        if memo is not None and memo[0] == vals:
            code, reports = memo[1], memo[2]
        else:
            reports = []
            code = _encode_insn(self.mnemonic, self.operands, vals, self.prefixes, reports.append)
            self.memo = (vals, code, reports)
        return code, reports


@functools.lru_cache(maxsize=8192)
def _numbers_encoding(mnemonic: str, operands: tuple, prefixes: tuple) -> tuple[bytes, tuple]:
    """Bytes and range reports of an instruction whose operands are all numbers: the
    same wherever it is, so one encoding serves every copy (unrolled code repeats)."""
    reports: list[str] = []
    vals = [None if op.expr is None else Val(op.expr) for op in operands]
    return _encode_insn(mnemonic, operands, vals, prefixes, reports.append), tuple(reports)


def _encode_insn(mnemonic, operands, vals, prefixes, report) -> bytes:
    try:
        return encode(mnemonic, operands, vals, prefixes, report)
    except SourceError as err:
        if not _size_unknown(operands):
            raise
        try:
            return encode(mnemonic + "l", operands, vals, prefixes, report)
        except SourceError:
            raise err from None


def _size_unknown(operands) -> bool:
    """`incl` written `inc (%eax)`: GNU as warns and uses the 32-bit form."""
    kinds = {op.kind for op in operands if not op.star}
    return "mem" in kinds and "reg" not in kinds


@dataclass
class Branch:
    """A direct jmp/jcc/call/loop; `long` records that relaxation grew it to rel32."""

    mnemonic: str
    target: Node
    long: bool = field(default=False)

    def emit(self, p: Pass) -> bytes:
        val = relocatable(p.branch_target(self.target))
        if pc_relative(val):  # a field holds `N - label`, a branch's displacement not
            raise SourceError("invalid operands (*ABS* and .text sections) for '-'")
        target = val.value & 0xFFFFFFFF
        if _branch.short_only(self.mnemonic):
            reach = target - (p.addr + _branch.short_size(self.mnemonic))
            if not _branch.fits_rel8(reach):
                p.report(f"'{self.mnemonic}' target is {reach} bytes away, out of rel8 reach")
            return _branch.short(self.mnemonic, p.addr, target)
        if not _branch.relaxable(self.mnemonic):
            return _branch.near(self.mnemonic, p.addr, target)
        p.new_frag(after_alignment=False)
        if val.sect == 0 or self.long or p.in_other_section(val):
            return _branch.near(self.mnemonic, p.addr, target)
        if not p.estimating and self.out_of_reach(p, target):
            self.long = p.grew = True
            return _branch.near(self.mnemonic, p.addr, target)
        return _branch.short(self.mnemonic, p.addr, target)

    def out_of_reach(self, p: Pass, target: int) -> bool:
        estimate = p.relax_estimate(target, p.addr + 1)
        return estimate is not None and not _branch.fits_rel8(estimate - (p.addr + 2))


@dataclass
class Far:
    """`ljmp $selector, $offset` / `lcall $selector, $offset`."""

    mnemonic: str
    selector: Node
    offset: Node

    def emit(self, p: Pass) -> bytes:
        selector = cut32(p.constant(self.selector, "far selector"))
        if not 0 <= selector <= 0xFFFF:
            raise SourceError(f"far selector {hex_number(selector)} does not fit in 16 bits")
        offset = relocatable(p.value(self.offset))
        offset = cut32(offset.value) if offset.const else offset.value
        bits = _branch.far_offset_bits(self.mnemonic)
        if bits == 16 and not 0 <= offset <= 0xFFFF:
            p.report(f"16-bit jump out of range: '{self.mnemonic}' to {hex_number(offset)}")
        elif not fits(offset, bits):
            p.report(f"far offset {hex_number(offset)} does not fit in {bits} bits")
        return _branch.far(self.mnemonic, selector, offset)
