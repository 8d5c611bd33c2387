"""Typed views of C structs that live in emulated memory.

A kernel struct is declared once, as an ordered list of fields with C
types; offsets and size follow from i386 alignment rules.  A view is a
(memory, address) pair whose attributes read and write the fields in
place, so Python never keeps a second copy of kernel state and never
types an offset by hand.
"""

import struct

from emu.memory import PAGE_OFFSET, BadAddress

_SCALARS = {
    "u8": "B",
    "u16": "H",
    "u32": "I",
    "s32": "i",
    "ptr": "I",
}


class Field:
    __slots__ = ("name", "ctype", "count", "offset", "size", "fmt", "sub")

    def __init__(self, name, ctype, count=1):
        self.name, self.ctype, self.count = name, ctype, count
        self.sub = ctype if isinstance(ctype, type) else None
        if self.sub is not None:
            self.fmt, elem = None, self.sub.SIZE
        elif ctype in ("char", "bytes", "bits"):
            self.fmt, elem = f"{count}s", 1
        else:
            self.fmt = "<" + _SCALARS[ctype]
            elem = struct.calcsize(self.fmt)
        self.size = elem * count

    @property
    def align(self) -> int:
        if self.sub is not None:
            return self.sub.ALIGN
        return 1 if self.ctype in ("char", "bytes", "u8") else min(4, self.size // self.count)


def _make_property(f: Field):
    off = f.offset
    if f.sub is not None:
        sub = f.sub
        return property(lambda self: sub(self._mem, self._addr + off))
    fmt = f.fmt
    if f.ctype == "bits":
        return _bits_property(f)
    if f.ctype == "bytes":
        return property(lambda self: self._mem.unpack(fmt, self._addr + off)[0])
    if f.ctype == "char":

        def get_chars(self):
            return self._mem.unpack(fmt, self._addr + off)[0].split(b"\0", 1)[0]

        def set_chars(self, value):
            self._mem.pack(fmt, self._addr + off, bytes(value)[: f.count - 1])

        return property(get_chars, set_chars)

    return _scalar_property(f)


def _scalar_property(f: Field):
    """The hot path: one precompiled struct, straight on the RAM buffer."""
    codec = struct.Struct(f.fmt)
    unpack_from, pack_into = codec.unpack_from, codec.pack_into
    bits = 8 * f.size
    mask, bias = (1 << bits) - 1, (1 << (bits - 1)) if f.fmt.islower() else 0
    # Field offset from PAGE_OFFSET, so the buffer offset is one addition.
    delta = f.offset - PAGE_OFFSET

    def get(self):
        return unpack_from(self._mem.buf, self._addr + delta)[0]

    def put(self, value):
        # C assignment semantics: wrap to the field's width (and sign).
        pack_into(self._mem.buf, self._addr + delta, ((value + bias) & mask) - bias)

    return property(get, put)


def _bits_property(f: Field):
    """A bitmap (cpumask_t) as one Python int, bit n = element n."""
    off, n = f.offset, f.count

    def get(self):
        return int.from_bytes(self._mem.read(self._addr + off, n), "little")

    def put(self, value):
        self._mem.write(self._addr + off, value.to_bytes(n, "little"))

    return property(get, put)


class StructView:
    """Base of every generated view class."""

    __slots__ = ("_mem", "_addr")
    FIELDS: tuple = ()
    OFFSETS: dict = {}
    SIZE = 0
    ALIGN = 1

    def __init__(self, mem, addr: int):
        # Below RAM a buffer offset would be negative and wrap silently.
        if not PAGE_OFFSET <= addr <= mem.end - self.SIZE:
            raise BadAddress(addr)
        self._mem, self._addr = mem, addr

    @property
    def addr(self) -> int:
        return self._addr

    def __eq__(self, other):
        return isinstance(other, StructView) and other._addr == self._addr

    def __hash__(self):
        return hash(self._addr)

    def __repr__(self):
        return f"<{type(self).__name__} at {self._addr:#010x}>"

    def zero(self) -> None:
        self._mem.fill(self._addr, self.SIZE)

    def raw(self) -> bytes:
        return self._mem.read(self._addr, self.SIZE)

    def copy_from(self, other: "StructView") -> None:
        self._mem.write(self._addr, other.raw())

    def values(self) -> dict:
        return {f.name: getattr(self, f.name) for f in self.FIELDS if f.sub is None}


def define_struct(name: str, fields: list[tuple]) -> type:
    """Build the view class for C struct ``name`` from ``(field, ctype[, count])``."""
    offset, align, laid = 0, 1, []
    for spec in fields:
        f = Field(*spec)
        offset = -(-offset // f.align) * f.align
        f.offset = offset
        offset += f.size
        align = max(align, f.align)
        laid.append(f)
    size = -(-offset // align) * align
    ns = {f.name: _make_property(f) for f in laid}
    ns.update(
        __slots__=(),
        FIELDS=tuple(laid),
        OFFSETS={f.name: f.offset for f in laid},
        SIZE=size,
        ALIGN=align,
    )
    return type(name, (StructView,), ns)
