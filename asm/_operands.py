"""AT&T operands: parsed once into a small record, rendered as canonical Keystone text.

Only the canonical form ever reaches Keystone: known register names, `0x` numbers
(Keystone reads bare digits as hex) and no symbols, so nothing the user wrote can
steer Keystone into one of its crashes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ._errors import SourceError
from ._expr import LocalResolver, Node, parse_expr, parse_number

_GPR = "eax ecx edx ebx esp ebp esi edi ax cx dx bx sp bp si di al cl dl bl ah ch dh bh"
SEGMENTS = frozenset("es cs ss ds fs gs".split())
REGISTERS = frozenset(
    _GPR.split()
    + list(SEGMENTS)
    + [f"cr{n}" for n in range(5)]
    + [f"dr{n}" for n in range(8)]
    + [f"mm{n}" for n in range(8)]
    + [f"xmm{n}" for n in range(8)]
    + [f"ymm{n}" for n in range(8)]
    + ["st"]
    + [f"st({n})" for n in range(8)]
)
_ADDRESS_REGISTERS = frozenset(_GPR.split()[:16])
_SEGMENT_PREFIX = re.compile(r"%([a-zA-Z]+)\s*:\s*")
_STRING_BODY = re.compile(r'(?:\\.|[^"\\])*', re.S)
_REGISTER = re.compile(r"%\s*([a-zA-Z][a-zA-Z0-9]*(?:\s*\(\s*[0-7]\s*\))?)")


@dataclass(frozen=True)
class Operand:
    """One operand. kind is "reg", "imm" or "mem"; expr is the immediate or displacement."""

    kind: str
    reg: str = ""
    expr: Node | None = None
    seg: str = ""
    base: str = ""
    index: str = ""
    scale: int = 1
    star: bool = False

    @property
    def addressed(self) -> bool:
        """A memory operand with a base or index register (not an absolute address)."""
        return bool(self.base or self.index)

    def render(self, number: str) -> str:
        """Keystone text, with `number` standing for the evaluated expression."""
        star = "*" if self.star else ""
        if self.kind == "reg":
            return f"{star}%{self.reg}"
        if self.kind == "imm":
            return f"{star}${number}"
        seg = ""  # segment overrides are prefix bytes added by the encoder (segment_prefix)
        if not self.addressed:
            return f"{star}{seg}{number}"
        if self.base == "bp" and self.index in ("si", "di") and self.scale == 1:
            # Keystone gives (%bp,%si) the disp8 that only (%bp) alone needs; written
            # the other way round it encodes [bp+si] as GNU as does (no 0 displacement)
            return f"{star}{seg}{number}(%{self.index},%bp)"
        base = f"%{self.base}" if self.base else ""
        index = f",%{self.index},{self.scale:#x}" if self.index else ""
        return f"{star}{seg}{number}({base}{index})"


_SEGMENT_BYTES = {"es": 0x26, "cs": 0x2E, "ss": 0x36, "ds": 0x3E, "fs": 0x64, "gs": 0x65}
_STACK_BASES = frozenset(("esp", "ebp", "sp", "bp"))


def segment_prefix(operands) -> tuple[int, ...]:
    """The segment override byte GNU as emits: none when the written segment is the
    default one (%ss for a %esp/%ebp base, %ds otherwise). Keystone drops `%ds:` even
    where %ss is the default, so it never sees segments."""
    for op in operands:
        if op.kind == "mem" and op.seg:
            default = "ss" if op.base in _STACK_BASES else "ds"
            return () if op.seg == default else (_SEGMENT_BYTES[op.seg],)
    return ()


def split_operands(text: str) -> list[str]:
    """Split at commas outside parentheses, strings and character constants."""
    if not text.strip():
        return []
    if '"' not in text and "'" not in text:
        return _split_plain(text)
    pieces, depth, start, pos = [], 0, 0, 0
    while pos < len(text):
        char = text[pos]
        if char == "'":
            pos += 2 if text[pos + 1 : pos + 2] == "\\" else 1
            pos += text[pos + 1 : pos + 2] == "'"
        elif char == '"':
            pos = _string_end(text, pos)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            pieces.append(text[start:pos].strip())
            start = pos + 1
        pos += 1
    pieces.append(text[start:].strip())
    return pieces


def _split_plain(text: str) -> list[str]:
    """split_operands for text without strings or quotes (nearly every operand list)."""
    if "(" not in text and ")" not in text:
        return [piece.strip() for piece in text.split(",")]
    pieces, pending, depth = [], [], 0
    for piece in text.split(","):
        pending.append(piece)
        depth += piece.count("(") - piece.count(")")
        if depth == 0:
            pieces.append(",".join(pending).strip())
            pending = []
    if pending:
        pieces.append(",".join(pending).strip())
    return pieces


def _string_end(text: str, pos: int) -> int:
    """Index of the quote closing the string opened at `pos` (an escaped quote does
    not close it), or the end of `text`."""
    return _STRING_BODY.match(text, pos + 1).end()


class LocalLabelError(Exception):
    """An operand names a numeric local label (`1f`): its meaning depends on where it is."""


def no_local(number: str, direction: str) -> str:
    """A local-label resolver for text parsed once for every place it appears."""
    raise LocalLabelError


@functools.lru_cache(maxsize=8192)
def _parse_alone(text: str) -> Operand:
    return _parse_operand(text, no_local)


def parse_operand(text: str, local: LocalResolver) -> Operand:
    """Parse `%reg`, `$expr`, `[%seg:]disp(base,index,scale)` or an address, maybe `*`-ed.

    Operands repeat (`4(%ebp)`, `%eax`) and an Operand never changes: one parse
    serves every copy, unless it names a local label."""
    try:
        return _parse_alone(text)
    except LocalLabelError:
        return _parse_operand(text, local)


def _parse_operand(text: str, local: LocalResolver) -> Operand:
    star = text.startswith("*")
    text = text[1:].strip() if star else text
    if not text:
        raise SourceError("missing operand")
    if "=" in text.replace("'=", ""):
        raise SourceError(f"invalid character '=' in operand '{text}'")
    if text.startswith("$"):
        return Operand("imm", expr=parse_expr(text[1:], local), star=star)
    seg = ""
    match = _SEGMENT_PREFIX.match(text)
    if match and match.group(1).lower() in SEGMENTS:
        seg, text = match.group(1).lower(), text[match.end() :]
    if text.startswith("%"):
        if seg:
            raise SourceError(f"segment override on a register operand '%{seg}:{text}'")
        return Operand("reg", reg=register(text), star=star)
    return _memory(text, seg, star, local)


def register(text: str) -> str:
    """Validated lower-case register name from `%name`."""
    match = _REGISTER.fullmatch(text.strip())
    name = re.sub(r"\s", "", match.group(1)).lower() if match else text.strip()
    if re.fullmatch(r"db[0-7]", name):
        name = "dr" + name[2]  # GNU as's other spelling of the debug registers
    if name not in REGISTERS:
        raise SourceError(f"bad register name '{text.strip()}'")
    return name


def _memory(text: str, seg: str, star: bool, local: LocalResolver) -> Operand:
    open_at = _address_paren(text)
    if open_at < 0:
        return Operand("mem", expr=parse_expr(text, local), seg=seg, star=star)
    disp = text[:open_at].strip()
    parts = [part.strip() for part in text[open_at + 1 : -1].split(",")]
    if len(parts) > 3:
        raise SourceError(f"bad memory operand '{text}'")
    base = _address_register(parts[0]) if parts[0] else ""
    index = _address_register(parts[1]) if len(parts) > 1 and parts[1] else ""
    scale = _scale(parts[2]) if len(parts) > 2 else 1
    if not (base or index) or (len(parts) > 1 and not index and (len(parts) > 2 or base)):
        raise SourceError(f"bad memory operand '{text}'")  # `(%eax,)`: GNU wants an index
    if base == "dx" and disp or not _valid_address(base, index, parts[2] if len(parts) > 2 else ""):
        raise SourceError(f"'{text}' is not a valid base/index expression")
    expr = parse_expr(disp, local) if disp else None
    return Operand("mem", expr=expr, seg=seg, base=base, index=index, scale=scale, star=star)


_BASES16 = frozenset(("bx", "bp", "si", "di"))


def _valid_address(base: str, index: str, scale: str) -> bool:
    """GNU as's base/index check: %esp is never an index; 16-bit addresses are one of
    (%bx|%bp|%si|%di) or (%bx|%bp,%si|%di) with no scale but 1; no mixing of sizes."""
    if index in ("esp", "sp"):
        return False
    if base == "dx" and not index:
        return True  # the port operand of in/out/ins/outs
    regs = [reg for reg in (base, index) if reg]
    if all(len(reg) == 3 for reg in regs):
        return True
    if any(len(reg) == 3 for reg in regs) or (scale and _scale(scale) != 1):
        return False
    if not index:
        return base in _BASES16
    return base in ("bx", "bp") and index in ("si", "di")


def is_address16(operand) -> bool:
    """A memory operand addressed with 16-bit registers (its displacement is 16 bits)."""
    return operand.kind == "mem" and len(operand.base or operand.index or "eax") == 2


def _address_register(text: str) -> str:
    name = register(text)
    if name not in _ADDRESS_REGISTERS:
        raise SourceError(f"'{text}' is not a valid base/index register")
    return name


def _address_paren(text: str) -> int:
    """Index of the `(` opening a trailing `(base,index,scale)`, or -1 for a plain address."""
    if not text.endswith(")"):
        return -1
    depth = 0
    for pos in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[pos], 0)
        if depth == 0:
            inner = text[pos + 1 : -1].lstrip()
            return pos if inner[:1] in ("%", ",") else -1
    raise SourceError(f"unbalanced parentheses in '{text}'")


def _scale(text: str) -> int:
    try:
        scale = parse_number(text) if text else 1
    except (SourceError, ValueError):
        scale = 0
    if scale not in (1, 2, 4, 8):
        raise SourceError(f"expecting scale factor of 1, 2, 4, or 8: got '{text}'")
    return scale
