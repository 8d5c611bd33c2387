"""The i386 target description gdb reads (qXfer:features:read:target.xml) and
the register layout of g/G/p/P that follows from it.

The features are gdb's own i386 ones (gdb/features/i386/32bit-core.xml and
32bit-linux.xml): ``org.gnu.gdb.i386.core`` with the sixteen general and
segment registers and the x87 registers gdb requires with them (it rejects a
core feature without them), eflags typed as flags; ``org.gnu.gdb.i386.linux``
with ``orig_eax`` at gdb's number 41 (the SSE registers it would follow are
not described: the emulated kernel never uses them).  Registers are numbered
in that order; the g packet holds them in number order.

This module imports nothing of the project.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Reg:
    name: str
    regnum: int
    bits: int
    type: str
    group: str = ""


GENERAL = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags")
SEGMENTS = ("cs", "ss", "ds", "es", "fs", "gs")
X87_CONTROL = ("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")
_TYPES = {"esp": "data_ptr", "ebp": "data_ptr", "eip": "code_ptr", "eflags": "i386_eflags"}
ORIG_EAX_REGNUM = 41

CORE = [Reg(n, i, 32, _TYPES.get(n, "int32")) for i, n in enumerate(GENERAL + SEGMENTS)]
CORE += [Reg(f"st{i}", 16 + i, 80, "i387_ext") for i in range(8)]
CORE += [Reg(n, 24 + i, 32, "int", "float") for i, n in enumerate(X87_CONTROL)]
LINUX = [Reg("orig_eax", ORIG_EAX_REGNUM, 32, "int")]
REGISTERS = CORE + LINUX
BY_NUMBER = {r.regnum: r for r in REGISTERS}
BY_NAME = {r.name: r for r in REGISTERS}

# gdb's i386_eflags flags type (32bit-core.xml): bit, name.
EFLAGS_FIELDS = (
    (0, "CF"), (1, ""), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"),
    (10, "DF"), (11, "OF"), (14, "NT"), (16, "RF"), (17, "VM"), (18, "AC"), (19, "VIF"),
    (20, "VIP"), (21, "ID"),
)  # fmt: skip


def _reg_xml(r: Reg) -> str:
    group = f' group="{r.group}"' if r.group else ""
    return f'  <reg name="{r.name}" bitsize="{r.bits}" type="{r.type}" regnum="{r.regnum}"{group}/>'


def target_xml() -> bytes:
    flags = "\n".join(
        f'    <field name="{name}" start="{bit}" end="{bit}"/>' for bit, name in EFLAGS_FIELDS
    )
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
        '<target version="1.0">',
        "<architecture>i386</architecture>",
        "<osabi>GNU/Linux</osabi>",
        '<feature name="org.gnu.gdb.i386.core">',
        '  <flags id="i386_eflags" size="4">',
        flags,
        "  </flags>",
        *(_reg_xml(r) for r in CORE),
        "</feature>",
        '<feature name="org.gnu.gdb.i386.linux">',
        *(_reg_xml(r) for r in LINUX),
        "</feature>",
        "</target>",
    ]
    return ("\n".join(lines) + "\n").encode()


TARGET_XML = target_xml()


def encode_register(reg: Reg, value: int | None) -> bytes:
    """Little-endian hex; ``xx`` per byte for a register the target does not have."""
    size = reg.bits // 8
    if value is None:
        return b"xx" * size
    return (value & ((1 << reg.bits) - 1)).to_bytes(size, "little").hex().encode()


def encode_registers(values: dict) -> bytes:
    """The g packet's reply: every register in number order."""
    return b"".join(encode_register(r, values.get(r.name)) for r in REGISTERS)


def decode_registers(data: bytes) -> dict:
    """A G packet's payload: {name: value} (ValueError on a bad length or digit)."""
    need = sum(r.bits // 4 for r in REGISTERS)
    if len(data) != need:
        raise ValueError(f"G packet of {len(data)} hex digits, not {need}")
    values, pos = {}, 0
    for r in REGISTERS:
        digits = data[pos : pos + r.bits // 4]
        pos += r.bits // 4
        if b"x" not in digits:
            values[r.name] = int.from_bytes(bytes.fromhex(digits.decode()), "little")
    return values
