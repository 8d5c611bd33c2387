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


def _target_note(mnemonic: str, op_str: str, symbols) -> str:
    """objdump's `` <name+0xoff>`` after a direct branch or call target."""
    if (
        symbols is None
        or not mnemonic.startswith(("j", "call", "loop"))
        or not op_str.startswith("0x")
    ):
        return ""
    target = int(op_str, 16)
    return f" <{symbols.label(target)}>" if symbols.lookup(target) else ""


def disassemble(code: bytes, addr: int, count=0, syntax="att", symbols=None) -> list[Insn]:
    """Decode up to ``count`` instructions (0: all) of ``code`` placed at ``addr``;
    with a symbol table, branch targets are named."""
    out = []
    for i in _engine(syntax).disasm(code, addr, count):
        text = f"{i.mnemonic} {i.op_str}".strip() + _target_note(i.mnemonic, i.op_str, symbols)
        out.append(Insn(i.address, i.size, text))
    return out


def disassemble_one(code: bytes, addr: int, syntax="att", symbols=None) -> Insn:
    """One instruction, or a ``(bad)`` pseudo-instruction of one byte, as objdump shows it."""
    insns = disassemble(code, addr, 1, syntax, symbols)
    return insns[0] if insns else Insn(addr, 1, "(bad)")
