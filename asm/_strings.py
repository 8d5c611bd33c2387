"""String instructions and xlat written with operands (`movsb %fs:(%esi), %es:(%edi)`).

Their operands only choose the size, a segment override and the address size, so
they are reduced here to the bare mnemonic plus prefixes. Keystone must never see
them with operands: it prints "memory operand is only for determining the size"
and, after such a warning, Keystone 0.9.2 intermittently crashes the process.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._errors import SourceError
from ._operands import Operand

# Which operand must be in %es (GNU as: "`movs' operand 2 must use `%es' segment").
_ES_OPERAND = {"movs": 1, "cmps": 0, "scas": 0, "stos": 1, "ins": 1, "lods": None, "outs": None}
_ES_OPERAND["xlat"] = None
_SUFFIX = {"b": "b", "w": "w", "l": "l", "d": "l"}
_SIZE_OF_REGISTER = {"al": "b", "ax": "w", "eax": "l"}
_SEGMENT_BYTE = {"es": 0x26, "cs": 0x2E, "ss": 0x36, "fs": 0x64, "gs": 0x65}
_ADDRESS16 = {"si", "di", "bx", "bp"}
_TWO_OPERANDS = frozenset(("movs", "cmps", "ins", "outs"))
# Where GNU as's templates allow the accumulator: lods and scas after the memory
# operand, stos before it; movs and cmps take none (and neither takes it alone).
_ACCUMULATOR_AT = {"lods": 1, "scas": 1, "stos": 0}
# Where ins and outs take their port, %dx or (%dx).
_PORT_AT = {"ins": 0, "outs": 1}


def split_mnemonic(mnemonic: str) -> tuple[str, str] | None:
    """(stem, size suffix) if `mnemonic` names a string instruction or xlat."""
    if mnemonic in ("xlat", "xlatb"):
        return "xlat", ""
    for stem in _ES_OPERAND:
        rest = mnemonic[len(stem) :]
        if mnemonic.startswith(stem) and rest in ("", *_SUFFIX):
            return stem, _SUFFIX.get(rest, "")
    return None


def reduce(
    mnemonic: str, operands: Sequence[Operand], texts: Sequence[str]
) -> tuple[str, tuple[int, ...]] | None:
    """Bare mnemonic and prefix bytes for a string instruction with operands (written
    as ``texts``), else None."""
    split = split_mnemonic(mnemonic)
    if split is None or not operands or not _all_string_operands(split[0], operands):
        return None
    stem, size = split
    if not 1 <= len(operands) <= 2 or (stem in _TWO_OPERANDS and len(operands) != 2):
        raise SourceError(f"number of operands mismatch for '{mnemonic}'")
    _check_forms(mnemonic, stem, size, operands)
    _check_address_size(operands, texts)
    prefixes = []
    for index, operand in enumerate(operands):
        if operand.kind != "mem" or operand.base == "dx":
            written = _SIZE_OF_REGISTER.get(operand.reg, "")
            if size and written and written != size:
                raise SourceError(f"invalid instruction suffix for '{stem}'")
            size = size or written
            continue
        if stem == "xlat" and not operand.addressed:
            raise SourceError("operand size mismatch for 'xlat'")
        if index == _ES_OPERAND[stem]:
            if operand.seg not in ("", "es"):
                raise SourceError(f"'{stem}' operand {index + 1} must use '%es' segment")
        elif operand.seg not in ("", "ds"):
            prefixes.append(_SEGMENT_BYTE[operand.seg])
        if operand.base in _ADDRESS16 and 0x67 not in prefixes:
            prefixes.append(0x67)
    if stem == "xlat":
        return "xlat", tuple(prefixes)
    return stem + (size or "l"), tuple(prefixes)


def _check_forms(mnemonic: str, stem: str, size: str, operands: Sequence[Operand]) -> None:
    """Refuse what GNU as's templates do not hold: the accumulator alone or on the
    wrong side (`scas %eax`, `stos (%edi), %al`), two memory operands where one is
    the accumulator's, and `lods` from a bare address (`lodsb do_exit`)."""
    if stem in _PORT_AT:
        port = _PORT_AT[stem]
        for index, operand in enumerate(operands):
            if (operand.base == "dx" or operand.reg == "dx") != (index == port):
                raise SourceError(f"operand size mismatch for '{stem}': the port is (%dx)")
        if stem == "outs" and not operands[0].addressed:
            raise SourceError("operand type mismatch for 'outs' from a bare address")
        return
    if stem not in _ACCUMULATOR_AT:
        if stem in ("movs", "cmps") and any(op.kind != "mem" for op in operands):
            raise SourceError(f"operand size mismatch for '{mnemonic}'")
        return
    where = _ACCUMULATOR_AT[stem] if len(operands) == 2 else None
    for index, operand in enumerate(operands):
        if (operand.kind == "mem") == (index == where):
            raise SourceError(f"operand size mismatch for '{stem}'")
    if stem == "lods" and not operands[0].addressed:
        what = "invalid instruction suffix" if size else "operand mismatch"
        raise SourceError(f"{what} for 'lods' from a bare address")


def _check_address_size(operands: Sequence[Operand], texts: Sequence[str]) -> None:
    """One address size for all: the first memory operand sets it (an absolute
    address the mode's 32 bits); a later one with registers of the other size is
    refused as GNU as refuses `movsb (%esi), (%di)` and `movsb dsi, (%di)`."""
    size = None
    for operand, text in zip(operands, texts, strict=True):
        if operand.kind != "mem" or operand.base == "dx":
            continue
        regs = {operand.base, operand.index} - {""}
        this = (16 if regs <= _ADDRESS16 else 32) if regs else None
        if size is None:
            size = this or 32
        elif this is not None and this != size:
            raise SourceError(f"'{text.strip()}' is not a valid base/index expression")


def _all_string_operands(stem: str, operands: Sequence[Operand]) -> bool:
    """Memory or al/ax/eax operands only (and %dx, the port of ins/outs):
    `movsd %xmm0, %xmm1` is SSE, not a string move."""
    registers = {*_SIZE_OF_REGISTER, "dx"} if stem in _PORT_AT else _SIZE_OF_REGISTER
    return all(
        (op.kind == "mem" and not op.star) or (op.kind == "reg" and op.reg in registers)
        for op in operands
    )
