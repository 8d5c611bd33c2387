"""Which words are instruction mnemonics.

Keystone 0.9.2 takes some words GNU as has never heard of: a mnemonic cut short
(`ca` and `cal` for `call`, `jn`, `set`, `fab`, `syscal`) is read as the
instruction it begins.  A word that begins a longer mnemonic but is none itself
is therefore refused here, with GNU as's message.  "A mnemonic" is capstone's
list of x86 instruction names, each also with an AT&T size suffix, and the AT&T
spellings capstone does not list (`cltd`, `movzbl`, ...), which never begin
another name anyway.
"""

from __future__ import annotations

import functools

import capstone

_SUFFIXES = "bwlqst"
# Words GNU as takes that begin a longer capstone name without being one (found by
# trying each such word with common operand forms on GNU as 2.40).
_GNU_ALSO = frozenset("bnd clr fdisi feni fs jc lods movsl popa pusha scas stos xlat".split())


@functools.cache
def _names() -> frozenset[str]:
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_32)
    names = (md.insn_name(i) for i in range(1, capstone.x86_const.X86_INS_ENDING))
    return frozenset(name for name in names if name)


@functools.cache
def _beginnings() -> frozenset[str]:
    """Every strict beginning of a name."""
    return frozenset(name[:k] for name in _names() for k in range(1, len(name)))


def cut_short(word: str) -> bool:
    """Does ``word`` only begin a mnemonic (`cal` of `call`) without being one?"""
    if word not in _beginnings() or word in _GNU_ALSO:
        return False
    names = _names()
    return word not in names and not (word[-1] in _SUFFIXES and word[:-1] in names)
