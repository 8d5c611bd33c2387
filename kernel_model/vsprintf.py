"""The kernel's formatted output (mirrors lib/vsprintf.c, 2.6.32): vsnprintf
over a format string and a va_list in emulated memory, the conversions
kernel code uses: ``%d %i %u %o %x %X %c %s %p %%``, the flags ``- + space # 0``,
field widths and precisions (``*`` from the arguments), the ``h hh l ll z Z t``
qualifiers, and ``%pS``/``%pF`` (symbol+offset/size, as kallsyms prints it).

A va_list on i386 is a pointer into the caller's stack: each argument takes a
word (``long long`` two), read here as the callee's ``va_arg`` reads it.
"""

from emu.memory import PAGE_SIZE
from kernel_model.runtime import guest_callable

ZEROPAD, SIGN, PLUS, SPACE, LEFT, SMALL, SPECIAL = 1, 2, 4, 8, 16, 32, 64
_FLAGS = {ord("-"): LEFT, ord("+"): PLUS, ord(" "): SPACE, ord("#"): SPECIAL, ord("0"): ZEROPAD}
MAX_STRING = 1024  # no single %s reads further (printk's buffer is 1024 bytes)


def stack_arguments(kern) -> int:
    """Where a guest call's stack arguments start: the word above the return
    address (a varargs function's, or the 4th of a regparm one)."""
    return kern.machine.cpus[kern.this_cpu].read("esp") + 4


class VaList:
    """The arguments after the format: 32-bit words from ``addr`` up."""

    __slots__ = ("mem", "addr")

    def __init__(self, mem, addr: int):
        self.mem, self.addr = mem, addr

    def word(self) -> int:
        value = self.mem.u32(self.addr)
        self.addr += 4
        return value

    def dword(self) -> int:
        low = self.word()
        return low | self.word() << 32


def c_string(mem, addr: int, limit: int = MAX_STRING) -> bytes:
    """The NUL-terminated string at ``addr``, at most ``limit`` bytes (BadAddress
    where it leaves RAM: the kernel's page fault)."""
    out = bytearray()
    while len(out) < limit:
        chunk = mem.read(addr + len(out), min(64, limit - len(out), mem.end - addr - len(out)) or 1)
        nul = chunk.find(b"\0")
        if nul >= 0:
            return bytes(out + chunk[:nul])
        out += chunk
    return bytes(out)


class _Spec:
    __slots__ = ("flags", "width", "precision", "qualifier", "base")

    def __init__(self):
        self.flags, self.width, self.precision, self.qualifier, self.base = 0, -1, -1, "", 10


def format_text(kern, fmt: bytes, args: VaList) -> bytes:
    """vsnprintf's whole output for ``fmt`` (callers cut it to their buffer, as
    vsnprintf does, and return its full length)."""
    out = bytearray()
    i, n = 0, len(fmt)
    while i < n:
        percent = fmt.find(b"%", i)
        if percent < 0:
            out += fmt[i:]
            break
        out += fmt[i:percent]
        i = _conversion(kern, fmt, percent + 1, args, out)
    return bytes(out)


def _conversion(kern, fmt: bytes, i: int, args: VaList, out: bytearray) -> int:
    spec, n = _Spec(), len(fmt)
    while i < n and fmt[i] in _FLAGS:
        spec.flags |= _FLAGS[fmt[i]]
        i += 1
    spec.width, i = _number_or_star(fmt, i, args)
    if spec.width is not None and spec.width < 0:
        spec.width, spec.flags = -spec.width, spec.flags | LEFT
    if i < n and fmt[i] == ord("."):
        spec.precision, i = _number_or_star(fmt, i + 1, args)
        spec.precision = max(spec.precision or 0, 0)
    spec.width = -1 if spec.width is None else spec.width
    spec.precision = -1 if spec.precision is None else spec.precision
    while i < n and chr(fmt[i]) in "hlLqjzZt":
        spec.qualifier += chr(fmt[i])
        i += 1
    if i >= n:
        return i
    c = chr(fmt[i])
    if c == "%":
        out += b"%"
    elif c == "c":
        out += _pad(bytes([args.word() & 0xFF]), spec)
    elif c == "s":
        out += _string(kern, args.word(), spec)
    elif c == "p":
        i = _pointer(kern, fmt, i, args.word(), spec, out)
    elif c == "n":
        args.word()  # 2.6.32 stores the count; nothing that prints uses it
    elif c in "diuoxX":
        out += _integer(c, args, spec)
    else:
        out += b"%" + fmt[i : i + 1]  # an unknown conversion prints as written
    return i + 1


def _number_or_star(fmt: bytes, i: int, args: VaList) -> tuple[int | None, int]:
    if i < len(fmt) and fmt[i] == ord("*"):
        value = args.word()
        return value - (1 << 32) if value & 0x80000000 else value, i + 1
    start = i
    while i < len(fmt) and 48 <= fmt[i] <= 57:
        i += 1
    return (int(fmt[start:i]) if i > start else None), i


def _integer(c: str, args: VaList, spec: _Spec) -> bytes:
    wide = spec.qualifier in ("ll", "L", "q")
    value = args.dword() if wide else args.word()
    bits = 64 if wide else {"hh": 8, "h": 16}.get(spec.qualifier, 32)
    value &= (1 << bits) - 1
    if c in "di":
        spec.flags |= SIGN
        if value >> (bits - 1):
            value -= 1 << bits
    spec.base = {"o": 8, "x": 16, "X": 16}.get(c, 10)
    if c == "x":
        spec.flags |= SMALL
    return number(value, spec)


def number(num: int, spec: _Spec) -> bytes:
    """lib/vsprintf.c's number(): sign, 0x prefix, precision and padding."""
    flags, width, precision = spec.flags, spec.width, spec.precision
    if flags & LEFT:
        flags &= ~ZEROPAD
    sign = ""
    if flags & SIGN:
        if num < 0:
            sign, num = "-", -num
        elif flags & PLUS:
            sign = "+"
        elif flags & SPACE:
            sign = " "
    prefix = ""
    if flags & SPECIAL and spec.base != 10:
        prefix = "0" if spec.base == 8 else ("0x" if flags & SMALL else "0X")
    digits = {8: f"{num:o}", 10: f"{num:d}", 16: f"{num:X}"}[spec.base]
    if flags & SMALL:
        digits = digits.lower()
    precision = max(precision, len(digits))
    pad = width - len(sign) - len(prefix) - precision
    text = "0" * (precision - len(digits)) + digits
    if flags & LEFT:
        text = sign + prefix + text + " " * max(pad, 0)
    elif flags & ZEROPAD:
        text = sign + prefix + "0" * max(pad, 0) + text
    else:
        text = " " * max(pad, 0) + sign + prefix + text
    return text.encode()


def _pad(data: bytes, spec: _Spec) -> bytes:
    if spec.width <= len(data):
        return data
    fill = b" " * (spec.width - len(data))
    return data + fill if spec.flags & LEFT else fill + data


def _string(kern, addr: int, spec: _Spec) -> bytes:
    """%s: a pointer into the first page is "(null)", as 2.6.32's string() says."""
    if addr < PAGE_SIZE:
        text = b"(null)"
    else:
        limit = spec.precision if spec.precision >= 0 else MAX_STRING
        text = c_string(kern.mem, addr, limit)
    if spec.precision >= 0:
        text = text[: spec.precision]
    return _pad(text, spec)


def _pointer(kern, fmt: bytes, i: int, ptr: int, spec: _Spec, out: bytearray) -> int:
    """%p, and %pS/%pF (name+0xoff/0xsize) and %ps/%pf (the name): returns where the
    conversion ends."""
    ext = chr(fmt[i + 1]) if i + 1 < len(fmt) else ""
    if ptr == 0:
        out += _pad(b"(null)", spec)
        return i + (ext in "SFsf" and ext != "")
    if ext in ("S", "F"):
        out += _pad(kern.symbols.describe_sized(ptr).encode(), spec)
        return i + 1
    if ext in ("s", "f"):
        sym = kern.symbols.lookup(ptr)
        out += _pad((sym.name if sym is not None else f"{ptr:#x}").encode(), spec)
        return i + 1
    if spec.width == -1:
        spec.width, spec.flags = 8, spec.flags | ZEROPAD
    spec.base, spec.flags = 16, spec.flags | SMALL
    out += number(ptr, spec)
    return i


def format_at(kern, fmt: int, args: VaList) -> bytes:
    """The output for the format string at ``fmt`` in emulated memory."""
    return format_text(kern, c_string(kern.mem, fmt), args)


def _store(kern, buf: int, size: int, text: bytes) -> int:
    """vsnprintf's contract: at most size - 1 bytes and a NUL; returns the full length."""
    if size:
        kern.mem.write(buf, text[: size - 1] + b"\0")
    return len(text)


# -- the C entry points (the kernel's prototypes; lib/vsprintf.c) ---------------------


@guest_callable(nargs=3)
def vsnprintf(kern, buf: int, size: int, fmt: int) -> int:
    """int vsnprintf(char *buf, size_t size, const char *fmt, va_list args)"""
    args = kern.mem.u32(stack_arguments(kern))  # the 4th argument: on the stack
    return _store(kern, buf, size, format_at(kern, fmt, VaList(kern.mem, args)))


@guest_callable()
def snprintf(kern) -> int:
    """int snprintf(char *buf, size_t size, const char *fmt, ...)"""
    sp = stack_arguments(kern)
    buf, size, fmt = kern.mem.unpack("<3I", sp)
    return _store(kern, buf, size, format_at(kern, fmt, VaList(kern.mem, sp + 12)))


@guest_callable()
def sprintf(kern) -> int:
    """int sprintf(char *buf, const char *fmt, ...): unbounded, as in C."""
    sp = stack_arguments(kern)
    buf, fmt = kern.mem.unpack("<2I", sp)
    text = format_at(kern, fmt, VaList(kern.mem, sp + 8))
    kern.mem.write(buf, text + b"\0")
    return len(text)
