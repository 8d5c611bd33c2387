"""PIC code (gcc -fpic) in the flat image, as GNU ld makes it in a static link.

`ld -Ttext ORIGIN` without -shared or -pie resolves everything inside the image:
- `x@PLT` is x (a branch straight to the function; GNU as relaxes it like any
  branch to a label);
- `x@GOTOFF` is x minus `_GLOBAL_OFFSET_TABLE_`, always a 32-bit field;
- `_GLOBAL_OFFSET_TABLE_` itself (R_386_GOTPC) is the table's distance from the
  instruction holding it (GNU as adds the immediate's offset in the instruction),
  or from the `.long` holding it; `call __x86.get_pc_thunk.bx; addl
  $_GLOBAL_OFFSET_TABLE_, %ebx` so leaves the table's address in %ebx;
- `x@GOT(%reg)` in the instructions GNU as marks R_386_GOT32X (32-bit mov, test,
  add/or/adc/sbb/and/sub/xor/cmp into a register, `call *`, `jmp *`) is rewritten
  by ld into an instruction of the same length that uses x directly
  (elf_i386_convert_load_reloc): `mov $x, %reg` (c7 /0), `test $x, %reg`, `OP $x,
  %reg` (81 /op), `addr32 call x` (67 e8), `jmp x; nop` (e9 .. 90);
- any other `x@GOT(%reg)` (an addend, a byte or word operand, `push`, `lea`) uses
  a GOT slot holding x: the field is the slot's distance from the table.

The linker's sections go after `.data`, before `.bss`: `.got` (the slots) and
`.got.plt` (three words, the first the address of _DYNAMIC, 0 in a static link),
which `_GLOBAL_OFFSET_TABLE_` starts. When only `@GOTOFF` is used, ld makes no
table, yet the symbol is the 4-aligned address where `.got.plt` would start.

Refused with a message naming the construct: `@GOT` without a base register or
with an index (ld rewrites the ModRM byte without looking at the SIB byte, so the
bytes it writes are not the instruction that was meant), `@GOT` of an absolute
symbol, GOT slots for more than one symbol (ld orders them by symbol table and
hash table), `_GLOBAL_OFFSET_TABLE_` in an address or in anything but a `.long`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._errors import SourceError
from ._expr import GOT_SYMBOL, Node, Val
from ._items import Align, Data, Label, relocatable
from ._operands import Operand, segment_prefix

_REG32 = {"eax": 0, "ecx": 1, "edx": 2, "ebx": 3, "esp": 4, "ebp": 5, "esi": 6, "edi": 7}
_BINOPS = {"add": 0, "or": 1, "adc": 2, "sbb": 3, "and": 4, "sub": 5, "xor": 6, "cmp": 7}


def entry_label(name: str) -> str:
    """The label of x's GOT slot (no source symbol can contain `@`)."""
    return f"{name}@GOT"


def kinds(node: Node) -> set[str]:
    """The PIC node kinds in an expression tree."""
    if not isinstance(node, tuple) or node[0] in ("sym", "dot"):
        return set()
    found = {node[0]} if node[0] in ("gotoff", "gotpc", "got") else set()
    for part in node[1:]:
        found |= kinds(part)
    return found


class Got:
    """What the image needs of a GOT: slots, the three-word header, or only its address."""

    def __init__(self) -> None:
        self.slots: list[str] = []
        self.header = False  # `_GLOBAL_OFFSET_TABLE_` written, or a slot used
        self.base = False  # `@GOTOFF` used

    def note(self, node: Node) -> None:
        found = kinds(node)
        self.header |= "gotpc" in found
        self.base |= "gotoff" in found

    def slot(self, name: str) -> None:
        if name not in self.slots:
            self.slots.append(name)
        if len(self.slots) > 1:
            names = ", ".join(f"'{slot}@GOT'" for slot in self.slots)
            raise SourceError(
                f"GOT slots for several symbols ({names}): GNU ld orders them by symbol "
                "table and hash table; not supported (use @GOTOFF, or one such symbol)"
            )
        self.header = True

    def sections(self, label) -> list[tuple[tuple[str, int], list]]:
        """(place, items) of the linker-made sections; `label(name)` registers a label."""
        out = []
        if self.slots:
            items: list = [Align(False, 4, 0, None)]
            for name in self.slots:
                items += [Label(label(entry_label(name))), Data(4, [("sym", name, name)])]
            out.append(((".got", 0), items))
        if self.header:
            header = [Align(False, 4, 0, None), Label(label(GOT_SYMBOL)), Data(4, [0, 0, 0])]
            out.append(((".got.plt", 0), header))
        elif self.base:
            label(GOT_SYMBOL)
            out.append(((".got.plt", 0), [GotBase()]))
        return out


@dataclass
class GotBase:
    """`_GLOBAL_OFFSET_TABLE_` when ld makes no table: the 4-aligned address where
    `.got.plt` would start, taking no room."""

    def emit(self, p) -> bytes:
        p.env[GOT_SYMBOL] = Val((p.addr + 3) & ~3, 1, ((f"f{p.frag}", 1),))
        return b""


@dataclass
class GotRelaxed:
    """An `x@GOT` instruction as ld rewrites it: `head` then x (32 bits), or a branch."""

    head: bytes
    target: Node
    written: str
    branch: str = ""

    def emit(self, p) -> bytes:
        val = relocatable(p.value(self.target))
        if val.sect != 1:
            raise SourceError(f"'{self.written}' of an absolute symbol is not supported")
        if self.branch == "call":
            return b"\x67\xe8" + _rel32(val.value - (p.addr + 6))
        if self.branch == "jmp":
            return b"\xe9" + _rel32(val.value - (p.addr + 5)) + b"\x90"
        return self.head + (val.value & 0xFFFFFFFF).to_bytes(4, "little")


def _rel32(displacement: int) -> bytes:
    return (displacement & 0xFFFFFFFF).to_bytes(4, "little")


def check_operands(word: str, operands: list[Operand]) -> None:
    """`_GLOBAL_OFFSET_TABLE_` is an immediate's business only."""
    for operand in operands:
        if operand.kind != "imm" and "gotpc" in kinds(operand.expr):
            raise SourceError(f"'{GOT_SYMBOL}' in an address of '{word}' is not supported")


def got_instruction(
    word: str, operands: list[Operand], prefixes: list[str], program
) -> tuple[list[Operand], GotRelaxed | None]:
    """Operands with `x@GOT` turned into a GOT slot's offset, or the rewritten
    instruction when ld relaxes it."""
    slots = [
        k for k, op in enumerate(operands) if isinstance(op.expr, tuple) and op.expr[0] == "got"
    ]
    if not slots:
        return operands, None
    operand = operands[slots[0]]
    written = operand.expr[2]
    if len(slots) > 1 or operand.kind != "mem" or operand.star != (word in ("call", "jmp")):
        raise SourceError(f"'{written}' is only supported as a memory operand's displacement")
    if not operand.base or operand.index or operand.base not in _REG32 or operand.base == "esp":
        raise SourceError(
            f"'{written}' needs a 32-bit base register other than %esp and no index: "
            "GNU ld would rewrite the instruction into other bytes"
        )
    target = operand.expr[1]
    name, addend = _symbol_plus(target, written)
    if name in program.defines or name in program.sets:
        raise SourceError(f"'{written}' of an absolute symbol is not supported")
    relaxed = None if addend or prefixes else _relaxed(word, operands, slots[0], target, written)
    if relaxed:
        return operands, relaxed
    program.got.slot(name)
    offset: Node = (
        "bin",
        "-",
        ("sym", entry_label(name), written),
        ("sym", GOT_SYMBOL, GOT_SYMBOL),
    )
    if addend:
        offset = ("bin", "+", offset, addend)
    operands = list(operands)
    operands[slots[0]] = replace(operand, expr=offset)
    return operands, None


def _symbol_plus(node: Node, written: str) -> tuple[str, int]:
    """x or x plus/minus a number: what a GOT slot can hold."""
    if isinstance(node, tuple) and node[0] == "sym":
        return node[1], 0
    if isinstance(node, tuple) and node[0] == "bin" and node[1] in "+-":
        if isinstance(node[3], int) and isinstance(node[2], tuple) and node[2][0] == "sym":
            return node[2][1], node[3] if node[1] == "+" else -node[3]
    raise SourceError(f"'{written}' must name one symbol (plus or minus a number)")


def _relaxed(word: str, operands, slot: int, target: Node, written: str) -> GotRelaxed | None:
    if word in ("call", "jmp"):
        return GotRelaxed(b"", target, written, word) if not operands[slot].seg else None
    if len(operands) != 2:
        return None
    other = operands[1 - slot]
    if other.kind != "reg" or other.reg not in _REG32:
        return None
    stem = word[:-1] if word.endswith("l") and word[:-1] in (*_BINOPS, "mov", "test") else word
    reg = _REG32[other.reg]
    prefix = bytes(segment_prefix([operands[slot]]))
    if stem == "test":
        return GotRelaxed(prefix + bytes((0xF7, 0xC0 | reg)), target, written)
    if slot != 0:
        return None
    if stem == "mov":
        return GotRelaxed(prefix + bytes((0xC7, 0xC0 | reg)), target, written)
    if stem in _BINOPS:
        return GotRelaxed(prefix + bytes((0x81, 0xC0 | _BINOPS[stem] << 3 | reg)), target, written)
    return None
