"""The one disassembler wrapper: Capstone, AT&T syntax by default."""

from dataclasses import dataclass
from functools import lru_cache

from capstone import CS_ARCH_X86, CS_MODE_32, CS_OPT_SYNTAX_ATT, CS_OPT_SYNTAX_INTEL, Cs


@dataclass(frozen=True)
class Insn:
    addr: int
    size: int
    text: str


@lru_cache(maxsize=2)
def _engine(syntax: str) -> Cs:
    cs = Cs(CS_ARCH_X86, CS_MODE_32)
    cs.syntax = CS_OPT_SYNTAX_ATT if syntax == "att" else CS_OPT_SYNTAX_INTEL
    return cs


def disassemble(code: bytes, addr: int, count: int = 0, syntax: str = "att") -> list[Insn]:
    """Decode up to ``count`` instructions (0: all) of ``code`` placed at ``addr``."""
    out = []
    for i in _engine(syntax).disasm(code, addr, count):
        text = f"{i.mnemonic} {i.op_str}".strip()
        out.append(Insn(i.address, i.size, text))
    return out


def disassemble_one(code: bytes, addr: int, syntax: str = "att") -> Insn:
    """One instruction, or a ``(bad)`` pseudo-instruction of one byte, as objdump shows it."""
    insns = disassemble(code, addr, 1, syntax)
    return insns[0] if insns else Insn(addr, 1, "(bad)")
