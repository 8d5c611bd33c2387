"""Direct branches, encoded here rather than by Keystone.

Keystone resolves a symbol's relative branch 4 bytes off, and it cannot know
GNU as's relaxation: a `jmp`/`jcc` to a label of this image starts short (rel8)
and grows to rel32 only when the target is out of reach; a branch to an absolute
address (a `defines` symbol, a number) is always rel32, because GNU as leaves it
to a relocation. `call` is always rel32. `loop`/`jecxz` have only a rel8 form.
"""

from __future__ import annotations

_CONDITIONS = {
    "o": 0, "no": 1, "b": 2, "c": 2, "nae": 2, "ae": 3, "nb": 3, "nc": 3,
    "e": 4, "z": 4, "ne": 5, "nz": 5, "be": 6, "na": 6, "a": 7, "nbe": 7,
    "s": 8, "ns": 9, "p": 10, "pe": 10, "np": 11, "po": 11,
    "l": 12, "nge": 12, "ge": 13, "nl": 13, "le": 14, "ng": 14, "g": 15, "nle": 15,
}  # fmt: skip
_SHORT = {"jmp": b"\xeb"} | {f"j{cc}": bytes([0x70 + n]) for cc, n in _CONDITIONS.items()}
_NEAR = {"jmp": b"\xe9", "call": b"\xe8", "calll": b"\xe8"}
_NEAR |= {f"j{cc}": bytes([0x0F, 0x80 + n]) for cc, n in _CONDITIONS.items()}
_SHORT_ONLY = {
    "jecxz": b"\xe3", "jcxz": b"\x67\xe3", "loop": b"\xe2",
    "loope": b"\xe1", "loopz": b"\xe1", "loopne": b"\xe0", "loopnz": b"\xe0",
}  # fmt: skip
FAR = {"ljmp": b"\xea", "lcall": b"\x9a", "ljmpl": b"\xea", "lcalll": b"\x9a"}
FAR |= {"ljmpw": b"\x66\xea", "lcallw": b"\x66\x9a"}
BRANCHES = frozenset(_NEAR) | frozenset(_SHORT_ONLY)


def relaxable(mnemonic: str) -> bool:
    """jmp and jcc: the branches GNU as may emit short or near."""
    return mnemonic in _SHORT


def fits_rel8(displacement: int) -> bool:
    return -128 <= displacement <= 127


def short_size(mnemonic: str) -> int:
    return len(_SHORT_ONLY.get(mnemonic) or _SHORT[mnemonic]) + 1


def short(mnemonic: str, address: int, target: int) -> bytes:
    """rel8 form at `address`; the caller has checked that the target is in reach."""
    opcode = _SHORT_ONLY.get(mnemonic) or _SHORT[mnemonic]
    displacement = target - (address + len(opcode) + 1)
    return opcode + (displacement & 0xFF).to_bytes(1, "little")


def near(mnemonic: str, address: int, target: int) -> bytes:
    """rel32 form at `address`."""
    opcode = _NEAR[mnemonic]
    displacement = target - (address + len(opcode) + 4)
    return opcode + (displacement & 0xFFFFFFFF).to_bytes(4, "little")


def short_only(mnemonic: str) -> bool:
    return mnemonic in _SHORT_ONLY


def far_offset_bits(mnemonic: str) -> int:
    """`ljmpw`/`lcallw` take a 16-bit offset (after a 0x66 prefix), the others 32 bits."""
    return 16 if mnemonic.endswith("w") else 32


def far(mnemonic: str, selector: int, offset: int) -> bytes:
    """`ljmp $sel, $off` / `lcall $sel, $off`: opcode, offset, 16-bit selector."""
    size = far_offset_bits(mnemonic) // 8
    offset_bytes = (offset & ((1 << size * 8) - 1)).to_bytes(size, "little")
    return FAR[mnemonic] + offset_bytes + selector.to_bytes(2, "little")
