"""One instruction to bytes: Keystone for the opcode tables, our code for everything else.

Keystone 0.9.2 sees only canonical text (see _operands) and is trusted only with
things it gets right. Around it:
- symbols are never given to Keystone (its sym_resolver puts relative branches
  4 bytes off); a value GNU as could not fold at parse time is encoded through a
  placeholder that forces the full-width form GNU as uses for relocations, then
  patched with the real value;
- an immediate too wide for its field is silently truncated by Keystone; GNU as
  warns ("0x1234 shortened to 0x34"), and a warning that changes the bytes is a
  bug in the source, so we raise instead;
- an encoding of 0 bytes (Keystone's answer to e.g. `int $0x12345` or a bad
  register) is an error, never an empty instruction;
- GNU as orders prefixes segment, 0x67, 0x66, rep, lock, and omits 0x66 on
  `movw` to a segment register or from one to memory; Keystone does neither.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence

from keystone import KS_ARCH_X86, KS_MODE_32, KS_OPT_SYNTAX_ATT, Ks, KsError

from ._errors import SourceError
from ._expr import Val
from ._operands import SEGMENTS, Operand, is_address16, segment_prefix

PREFIXES = {"lock": 0xF0, "rep": 0xF3, "repe": 0xF3, "repz": 0xF3, "repne": 0xF2, "repnz": 0xF2}
PREFIXES |= {"data16": 0x66, "addr16": 0x67}
_SLOT = {0x26: 1, 0x2E: 1, 0x36: 1, 0x3E: 1, 0x64: 1, 0x65: 1, 0x67: 2, 0x66: 3}
_SLOT.update({0xF2: 4, 0xF3: 4, 0xF0: 5})
_SUFFIXES = ("", "b", "w", "l")
_LOCKABLE = {
    stem + suffix
    for stem in "add adc and btc btr bts dec inc neg not or sbb sub xadd xchg xor cmpxchg".split()
    for suffix in _SUFFIXES
} | {"cmpxchg8b"}
_REPEATABLE = {
    stem + suffix
    for stem in "movs cmps scas lods stos ins outs".split()
    for suffix in (*_SUFFIXES, "d")
} | {"nop", "ret"}
# `rep bsf`/`rep bsr` are tzcnt/lzcnt written the way older assemblers could: the
# prefix is data to a CPU without them, which then runs plain bsf/bsr.
_REPEATABLE |= {stem + suffix for stem in ("bsf", "bsr") for suffix in ("", "w", "l")}
# Keystone encodes these in 32-bit mode although they exist only in 64-bit mode.
_ONLY_64BIT = frozenset(
    (
        "cltq cqto cqo cdqe swapgs cmpxchg16b movsq cmpsq scasq lodsq stosq jrcxz movsxd movslq "
        "movabs sysretq sysexitq iretq retq lretq callq jmpq pushq popq pushfq popfq leaveq enterq"
    ).split()
)
_PLACEHOLDER = 0x7E5A3C10
_BYTE_PROBES = (0x5A, 0x6B)
# Encodings where GNU as picks a different form than Keystone for the same text.
_GAS_CHOICES = {"int $0x3": (b"\xcc", "")}

Report = Callable[[str], None]


def fits(value: int, bits: int) -> bool:
    """GNU as's test before it warns that a value was shortened to `bits` bits."""
    mask = ~((1 << bits) - 1)
    return not (value & mask) or not (-value & mask)


def signed32(value: int) -> int:
    return ((value & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


def hex_number(value: int) -> str:
    return f"-{-value:#x}" if value < 0 else f"{value:#x}"


# One Keystone engine, and fd 2 redirected around its calls: neither is thread-safe.
_KEYSTONE_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _keystone() -> Ks:
    engine = Ks(KS_ARCH_X86, KS_MODE_32)
    engine.syntax = KS_OPT_SYNTAX_ATT
    return engine


@functools.lru_cache(maxsize=16384)
def _keystone_bytes(text: str) -> tuple[bytes, str]:
    """Keystone's encoding of one canonical instruction, or why there is none.

    An encoding Keystone warned about is refused: after a warning Keystone 0.9.2
    intermittently crashes the process (seen with string instructions written
    with operands, which _strings keeps away from it). Any other warning that
    gets through becomes an error here instead of a silent risk.
    """
    with _KEYSTONE_LOCK, _captured_stderr() as warnings:
        try:
            encoding, _count = _keystone().asm(text, 0, True)
        except KsError as err:
            return b"", str(err)
    if warnings[0]:
        return b"", f"Keystone warned: {warnings[0]}"
    return encoding or b"", ""


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Point file descriptor 2, where Keystone (LLVM) prints warnings, at a scratch
    file for one call, so warnings neither reach the terminal nor go unnoticed.
    The yielded list holds the first line printed ("" if none) once the block ends."""
    sys.stderr.flush()
    scratch = _scratch().fileno()
    saved = os.dup(2)
    printed: list[str] = []
    os.dup2(scratch, 2)
    try:
        yield printed
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        printed.append(_first_line(scratch))


@functools.lru_cache(maxsize=1)
def _scratch():
    """One scratch file for every Keystone call (a new one each call cost more than
    the call itself), left empty after each; used under _KEYSTONE_LOCK only."""
    return tempfile.TemporaryFile(buffering=0)


def _first_line(scratch: int) -> str:
    """The first line written to the scratch file descriptor, which is emptied."""
    written = os.lseek(scratch, 0, os.SEEK_CUR)
    if not written:
        return ""
    os.lseek(scratch, 0, os.SEEK_SET)
    text = os.read(scratch, min(written, 4096))
    os.ftruncate(scratch, 0)
    return text.split(b"\n", 1)[0].decode("utf-8", "replace").strip()


@functools.lru_cache(maxsize=16384)
def template(text: str, prefixes: tuple[int, ...]) -> bytes:
    """Bytes GNU as would give for canonical `text` with user-written `prefixes`."""
    encoding, error = _GAS_CHOICES.get(text) or _keystone_bytes(text)
    if error:
        raise SourceError(f"{error}: '{text}'")
    if not encoding:
        raise SourceError(f"invalid instruction or operands: '{text}'")
    if len(encoding) == 1 and encoding[0] in _SLOT and text.split()[0] not in SEGMENTS:
        # Keystone reads `f` as the `fs` prefix; GNU as has no such instruction.
        raise SourceError(f"no such instruction: '{text.split()[0]}'")
    start = 0
    while start < len(encoding) - 1 and encoding[start] in _SLOT:
        start += 1
    found = list(encoding[:start]) + list(prefixes)
    body = _fix_multibyte_nop(text, encoding[start:])
    if 0x66 in found and _sreg_store(body):
        found.remove(0x66)
    slots = [_SLOT[byte] for byte in found]
    if len(set(slots)) != len(slots):
        raise SourceError("same type of prefix used twice")
    return bytes(sorted(found, key=_SLOT.__getitem__)) + body


def _fix_multibyte_nop(text: str, body: bytes) -> bytes:
    """Keystone encodes `nopl x` as 0f 18 /4 (a prefetch hint); it is 0f 1f /0."""
    if text.startswith("nop") and body[:2] == b"\x0f\x18" and len(body) > 2:
        return b"\x0f\x1f" + bytes([body[2] & 0xC7]) + body[3:]
    return body


def _sreg_store(body: bytes) -> bool:
    """`movw` to a segment register, or from one to memory: GNU as omits 0x66."""
    return body[0] == 0x8E or (body[0] == 0x8C and len(body) > 1 and body[1] < 0xC0)


def check_instruction(prefixes: Sequence[str], mnemonic: str, operands: Sequence[Operand]) -> None:
    """What GNU as refuses but Keystone would encode anyway."""
    if mnemonic in _ONLY_64BIT:
        raise SourceError(f"'{mnemonic}' is only supported in 64-bit mode")
    if mnemonic == "movl" and any(op.kind == "mem" for op in operands):
        if any(op.kind == "reg" and op.reg in SEGMENTS for op in operands):
            raise SourceError("operand type mismatch for 'movl': use movw for memory")
    for prefix in prefixes:
        if prefix == "lock" and not _lockable(mnemonic, operands):
            raise SourceError(f"expecting lockable instruction after 'lock', got '{mnemonic}'")
        if prefix.startswith("rep") and mnemonic not in _REPEATABLE:
            raise SourceError(f"invalid instruction '{mnemonic}' after '{prefix}'")


def _lockable(mnemonic: str, operands: Sequence[Operand]) -> bool:
    if mnemonic not in _LOCKABLE or not operands:
        return False
    if mnemonic.startswith("xchg"):
        return any(op.kind == "mem" for op in operands)
    return operands[-1].kind == "mem"


def encode(
    mnemonic: str,
    operands: Sequence[Operand],
    vals: Sequence[Val | None],
    prefixes: tuple[int, ...],
    report: Report,
) -> bytes:
    """Encode one instruction; range problems of late-resolved values go to `report`.

    GNU as in 32-bit mode first cuts a folded value to 32 bits, silently (cut32),
    and checks the field's width after that."""
    prefixes = prefixes + segment_prefix(operands)
    size = _guess_size(mnemonic, operands)
    vals = [_folded(val, op, size) for op, val in zip(operands, vals, strict=True)]
    pairs = enumerate(zip(operands, vals, strict=True))
    numbers = [_number(operand, val, slot) for slot, (operand, val) in pairs]
    late = {}
    for slot, val in enumerate(vals):
        if val is not None and val.const and operands[slot].kind == "imm":
            _check_immediate(mnemonic, operands, numbers, slot, val.value, prefixes)
        elif val is not None and not val.const:
            late[slot] = _field_bits(mnemonic, operands, numbers, slot, prefixes)
            if not fits(val.value, late[slot]):
                report(f"value {hex_number(val.value)} does not fit in {late[slot]} bits")
            if late[slot] == 8:
                numbers[slot] = hex_number(_BYTE_PROBES[0])
    try:
        code = bytearray(template(_render(mnemonic, operands, numbers), prefixes))
    except SourceError as err:
        raise _name_late_values(err, operands, numbers, late) from None
    for slot, bits in late.items():
        if bits == 8:
            at = _byte_position(code, mnemonic, operands, numbers, slot, prefixes)
            code[at] = vals[slot].value & 0xFF
        else:
            _patch(code, slot, bits, vals[slot].value)
    return bytes(code)


def cut32(value: int) -> int:
    """A folded value as GNU as keeps it in 32-bit mode (extend_to_32bit_address):
    one that fits in 32 bits sign-extended, a wider one cut to its low 32 bits
    (so `int $0x100000003` is `int3`, but `int $0x1ffffffff` is out of range)."""
    if -(1 << 31) <= value < 1 << 32:
        return signed32(value)
    return value & 0xFFFFFFFF


def _folded(val: Val | None, operand: Operand, size: str) -> Val | None:
    """A folded value as GNU as encodes it: cut to 32 bits; the immediate of an
    operation with a size then read as a signed 32-bit number, and of a byte or word
    operation in 0..0xffff as a signed 16-bit one (optimize_imm): so `movb $0xffff,
    %al` is `movb $-1, %al`, while `int $0x1ffffffff` is out of range."""
    if val is None or not val.const:
        return val
    value = cut32(val.value)
    if size and operand.kind == "imm":
        value = signed32(value)
        if size in "bw" and 0 <= value <= 0xFFFF:
            value = (value ^ 0x8000) - 0x8000
    return val._replace(value=value)


_REGISTER_SIZE = dict.fromkeys("al cl dl bl ah ch dh bh".split(), "b")
_REGISTER_SIZE |= dict.fromkeys("ax cx dx bx sp bp si di".split(), "w")
_REGISTER_SIZE |= dict.fromkeys("eax ecx edx ebx esp ebp esi edi".split(), "l")


def _guess_size(mnemonic: str, operands: Sequence[Operand]) -> str:
    """The operation size GNU as guesses (its guess_suffix), "" for none: from the
    last general register operand, else from the mnemonic's suffix."""
    for operand in reversed(operands):
        if operand.kind == "reg" and operand.reg in _REGISTER_SIZE:
            return _REGISTER_SIZE[operand.reg]
    if mnemonic[-1:] in ("b", "w", "l") and mnemonic not in ("sub", "sbb"):
        return mnemonic[-1]
    return ""


def _name_late_values(err: SourceError, operands, numbers, late) -> SourceError:
    """An error about the canonical text shows the symbols written, not the
    placeholders that stood for them (`$start`, not `$0x5a`)."""
    message = err.message
    for slot in late:
        message = message.replace(numbers[slot], _written(operands[slot].expr), 1)
    return SourceError(message)


def _written(node) -> str:
    """The symbols of an expression as the source wrote them."""
    if isinstance(node, tuple) and node[0] == "sym":
        return node[2]
    if isinstance(node, tuple):
        names = [_written(part) for part in node[1:] if isinstance(part, tuple)]
        return "+".join(name for name in names if name) or "expression"
    return ""


def _byte_position(code, mnemonic, operands, numbers, slot: int, prefixes) -> int:
    """Where an 8-bit late value goes: the one byte that changes with the probe value.

    A probe rather than the real value keeps GNU as's form: `shll $x, %eax` with
    x resolved late to 1 is c1 /4 ib, not the d1 /4 shift-by-one.
    """
    probe = list(numbers)
    probe[slot] = hex_number(_BYTE_PROBES[1])
    other = template(_render(mnemonic, operands, probe), prefixes)
    changed = [at for at, (a, b) in enumerate(zip(code, other, strict=False)) if a != b]
    if len(other) != len(code) or len(changed) != 1:
        raise SourceError("cannot place a late-resolved 8-bit value in this instruction")
    return changed[0]


def _check_immediate(mnemonic, operands, numbers, slot: int, value: int, prefixes) -> None:
    """Refuse what Keystone would silently truncate (`movb $0x1234,%al`)."""
    if fits(value, 8):
        return
    bits = _field_bits(mnemonic, operands, numbers, slot, prefixes)
    if not fits(value, bits):
        raise SourceError(f"value {hex_number(value)} does not fit in {bits} bits")


def _number(operand: Operand, val: Val | None, slot: int) -> str:
    """Number text for Keystone: the value if GNU as folded it, else a placeholder."""
    if val is None:
        return ""
    if not val.const:
        return hex_number(_PLACEHOLDER + slot)
    return _constant(operand, val.value)


def _constant(operand: Operand, value: int) -> str:
    bits = 16 if is_address16(operand) else 32
    if not fits(value, bits):
        raise SourceError(f"value {hex_number(value)} does not fit in {bits} bits")
    if operand.kind == "mem" and not operand.addressed:
        return hex_number(value & 0xFFFFFFFF)
    return hex_number(signed32(value))


def _render(mnemonic: str, operands: Sequence[Operand], numbers: Sequence[str]) -> str:
    rendered = ", ".join(op.render(number) for op, number in zip(operands, numbers, strict=True))
    return f"{mnemonic} {rendered}" if rendered else mnemonic


def _field_bits(mnemonic, operands, numbers, slot: int, prefixes: tuple[int, ...]) -> int:
    """Width of the field holding operand `slot`, found by encoding a placeholder there."""
    probe = list(numbers)
    probe[slot] = hex_number(_PLACEHOLDER + slot)
    try:
        code = template(_render(mnemonic, operands, probe), prefixes)
    except SourceError:
        return 8
    marker = (_PLACEHOLDER + slot).to_bytes(4, "little")
    if code.count(marker) == 1:
        return 32
    return 16 if code.count(marker[:2]) == 1 else 8


def _patch(code: bytearray, slot: int, bits: int, value: int) -> None:
    """Write a late-resolved value where its placeholder sits."""
    size = bits // 8
    marker = (_PLACEHOLDER + slot).to_bytes(4, "little")[:size]
    at = bytes(code).index(marker)
    code[at : at + size] = (value & ((1 << bits) - 1)).to_bytes(size, "little")
