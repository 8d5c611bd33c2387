"""gdb's ways of writing a value: ``<symbol+off>`` (decimal offset), the
``print/FMT`` and ``x/FMT`` letters, EFLAGS as ``[ PF SF IF ]``."""

import struct

MASK = 0xFFFFFFFF
# gdb's i386 eflags type (features/i386/32bit-core.xml): bit -> flag name.
EFLAGS_BITS = (
    (0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"),
    (10, "DF"), (11, "OF"), (14, "NT"), (16, "RF"), (17, "VM"), (18, "AC"),
    (19, "VIF"), (20, "VIP"), (21, "ID"),
)  # fmt: skip
FORMATS = "xduotacfsi"
SIZES = {"b": 1, "h": 2, "w": 4, "g": 8}


class FormatError(Exception):
    """A /FMT that gdb would refuse."""


def eflags_text(value: int) -> str:
    names = [name for bit, name in EFLAGS_BITS if value >> bit & 1]
    return "[ " + " ".join(names) + " ]" if names else "[ ]"


def symbolic(symbols, addr: int) -> str:
    """gdb's `` <name+off>`` after an address (empty when no symbol covers it)."""
    sym = symbols.lookup(addr)
    if sym is None:
        return ""
    off = addr - sym.addr
    return f" <{sym.name}+{off}>" if off else f" <{sym.name}>"


def address(symbols, addr: int) -> str:
    """``0xc0100090 <kernel_thread_helper+3>``: gdb's /a."""
    return f"{addr:#x}{symbolic(symbols, addr)}"


def parse_fmt(text: str, allowed: str = FORMATS) -> tuple[int | None, str | None, int | None]:
    """``/NFU`` (without the slash) -> (count, format letter, size in bytes)."""
    digits = ""
    while text[: len(digits) + 1].isdigit() and len(digits) < len(text):
        digits = text[: len(digits) + 1]
    # A count of more digits than any bound is that many (int() refuses huge strings).
    count = None if not digits else int(digits) if len(digits) <= 12 else 10**12
    fmt = size = None
    for letter in text[len(digits) :]:
        if letter in SIZES and size is None:
            size = SIZES[letter]
        elif letter in allowed and fmt is None:
            fmt = letter
        else:
            raise FormatError(f'Undefined output format "{text}".')
    return count, fmt, size


def char_text(value: int) -> str:
    """gdb's /c: ``65 'A'`` (signed byte, C escapes)."""
    byte = value & 0xFF
    signed = byte - 256 if byte > 127 else byte
    escapes = {0: "\\000", 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f",
               13: "\\r", 39: "\\'", 92: "\\\\"}  # fmt: skip
    if byte in escapes:
        shown = escapes[byte]
    elif 32 <= byte < 127:
        shown = chr(byte)
    else:
        shown = f"\\{byte:03o}"
    return f"{signed} '{shown}'"


def signed(value: int, size: int) -> int:
    bits = 8 * size
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def scalar(value: int, fmt: str, size: int, symbols=None, pad: bool = False) -> str:
    """One integer in gdb's format ``fmt`` (``pad``: x's zero-padded columns)."""
    bits = 8 * size
    unsigned = value & ((1 << bits) - 1)
    if fmt == "x":
        return f"0x{unsigned:0{2 * size}x}" if pad else f"{unsigned:#x}"
    if fmt == "d":
        return str(signed(value, size))
    if fmt == "u":
        return str(unsigned)
    if fmt == "o":
        if pad:
            return f"0{unsigned:0{(bits + 2) // 3}o}"
        return f"0{unsigned:o}" if unsigned else "0"
    if fmt == "t":
        return f"{unsigned:0{bits}b}" if pad else f"{unsigned:b}"
    if fmt == "c":
        return char_text(unsigned)
    if fmt == "a":
        return address(symbols, unsigned) if symbols is not None else f"{unsigned:#x}"
    if fmt == "f":
        if size == 4:
            return f"{struct.unpack('<f', unsigned.to_bytes(4, 'little'))[0]:.9g}"
        if size == 8:
            return f"{struct.unpack('<d', unsigned.to_bytes(8, 'little'))[0]:.17g}"
        return str(signed(value, size))
    raise FormatError(f'Format letter "{fmt}" is meaningless in "print" command.')


def c_string(data: bytes) -> str:
    """A C string as gdb quotes it."""
    out = []
    for byte in data:
        if byte == 34:
            out.append('\\"')
        elif byte == 92:
            out.append("\\\\")
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            out.append({10: "\\n", 9: "\\t", 13: "\\r"}.get(byte, f"\\{byte:03o}"))
    return '"' + "".join(out) + '"'
