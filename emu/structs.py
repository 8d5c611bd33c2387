"""Typed views of C structs that live in emulated memory.

A kernel struct is declared once, as an ordered list of fields, each with
its storage kind (``"u32"``, ``"ptr"``, ``"char"`` ...) and, beside it, the
C type the kernel declares it with (``"unsigned long"``,
``"struct task_struct *"``; emu/ctype.py reads these), which defaults
from the kind.  ``define_struct`` turns it into a ctypes structure, so
offsets, size and alignment come from ctypes (i386 rules: no field here is wider
than 4 bytes, and ctypes aligns those alike on every host).  A view is
that structure laid over the RAM mmap at an address: its attributes read
and write the fields in place, in C, so Python never keeps a second copy
of kernel state and never types an offset by hand.

``T(mem, addr)`` makes the view.  An address whose struct does not lie
wholly inside RAM raises BadAddress, as every Memory access does; once
made, a view only touches its own bytes.  Scalars follow C assignment
(a value wraps to the field's width and sign); ``char`` arrays read up
to the NUL and are written NUL-padded, cut to count-1 bytes; ``bits``
arrays (cpumask_t) are one Python int; ``bytes`` arrays read as bytes;
a nested struct is a view of its own, made on first use and kept.

Views are cached by type and address in their Memory (``Memory.views``):
a second view of the same task_struct is the same object.  A view is only
a window on its address, so a cached view never goes stale, whatever RAM
holds later: the next task in a freed slot is read through the same view.
"""

import ctypes
from operator import attrgetter

from emu import ctype as c
from emu.memory import PAGE_OFFSET

_SCALARS = {
    "u8": ctypes.c_uint8,
    "u16": ctypes.c_uint16,
    "u32": ctypes.c_uint32,
    "s32": ctypes.c_int32,
    "ptr": ctypes.c_uint32,
}
_ARRAYS = {"char": ctypes.c_char, "bytes": ctypes.c_uint8, "bits": ctypes.c_uint8}
# The C type a field of each kind has unless it says otherwise.
_DEFAULT_C = {
    "u8": "unsigned char", "u16": "unsigned short", "u32": "unsigned int", "s32": "int",
    "ptr": "void *", "char": "char", "bytes": "unsigned char", "bits": "unsigned char",
}  # fmt: skip


class Field:
    """One declared field; ``offset`` and ``size`` are filled in from ctypes.
    ``c_type`` is its C type (emu/ctype.py's parse of the declaration)."""

    __slots__ = ("name", "ctype", "count", "offset", "size", "sub", "c_type")

    def __init__(self, name, ctype, *rest):
        count = rest[0] if rest and isinstance(rest[0], int) else 1
        declared = rest[-1] if rest and isinstance(rest[-1], str) else None
        self.name, self.ctype, self.count = name, ctype, count
        self.sub = ctype if isinstance(ctype, type) else None
        if self.sub is None and ctype not in _ARRAYS and count != 1:
            raise ValueError(f"{name}: arrays of {ctype} are not supported")
        self.c_type = self._declared_type(declared)

    def _declared_type(self, declared: str | None):
        if self.sub is not None:
            if declared is not None:
                raise ValueError(f"{self.name}: a nested struct's C type is its view's")
            return self.sub.C_TYPE
        if declared is None:
            base = c.parse(_DEFAULT_C[self.ctype])
            return c.Array(base, self.count) if self.ctype in _ARRAYS else base
        try:
            return c.parse(declared)
        except c.CTypeError as err:
            raise ValueError(f"{self.name}: {err}") from None

    def storage(self):
        if self.sub is not None:
            return self.sub
        if self.ctype in _ARRAYS:
            return _ARRAYS[self.ctype] * self.count
        return _SCALARS[self.ctype]


class _ViewType(type(ctypes.LittleEndianStructure)):
    """Metaclass of the views: ``T(mem, addr)`` lays T over RAM at ``addr``."""

    def __call__(cls, mem, addr):
        # A view is only a window on RAM, so one per (type, address) is always right:
        # kept, it saves making it again (the kernel touches the same structs over
        # and over).  A freed object's view serves the next one at its address.
        cache = mem.views.get(cls)
        if cache is None:
            cache = mem.views[cls] = {}
        view = cache.get(addr)
        if view is not None:
            return view
        off = addr - PAGE_OFFSET
        if off < 0 or off > mem.ram_size - cls.SIZE:
            raise mem.outside(addr)
        # from_address is 4-6x cheaper than from_buffer and as safe here: _mem
        # keeps the mmap alive, and Memory's own export of it forbids close().
        view = cls.from_address(mem.host_address + off)
        view.addr, view._mem = addr, mem
        cache[addr] = view
        return view


class StructView(ctypes.LittleEndianStructure, metaclass=_ViewType):
    """Base of every generated view class.  ``addr`` is the view's address
    (a slot, for speed: read it, never assign it)."""

    __slots__ = ("addr", "_mem")
    FIELDS: tuple = ()
    OFFSETS: dict = {}
    SIZE = 0
    ALIGN = 1
    TAG = ""  # the C struct tag: ``struct TAG``
    C_TYPE = None  # how a field of this type is spelled: struct TAG, or its typedef
    _NESTED: dict = {}

    def __getattr__(self, name):
        # Reached only when normal lookup failed: a nested view not made yet, or a typo.
        f = self._NESTED.get(name)
        if f is None:
            raise AttributeError(f"struct {type(self).__name__} has no field {name!r}")
        sub = f.sub(self._mem, self.addr + f.offset)
        setattr(self, "_sub_" + name, sub)
        return sub

    def __eq__(self, other):
        return isinstance(other, StructView) and other.addr == self.addr

    def __hash__(self):
        return hash(self.addr)

    def __repr__(self):
        return f"<{type(self).__name__} at {self.addr:#010x}>"

    # Whole-struct copies go through the RAM mmap's slices: a third of a
    # ctypes memset/memmove call's cost.
    def zero(self) -> None:
        off = self.addr - PAGE_OFFSET
        self._mem.buf[off : off + self.SIZE] = bytes(self.SIZE)

    def raw(self) -> bytes:
        off = self.addr - PAGE_OFFSET
        return self._mem.buf[off : off + self.SIZE]

    def copy_from(self, other: "StructView") -> None:
        off = self.addr - PAGE_OFFSET
        self._mem.buf[off : off + self.SIZE] = other.raw()

    def values(self) -> dict:
        return {f.name: getattr(self, f.name) for f in self.FIELDS if f.sub is None}


def _field_bytes(offset: int, count: int):
    """The field's bytes in RAM (a copy), and a setter of all of them."""

    def get(self):
        off = self.addr - PAGE_OFFSET + offset
        return self._mem.buf[off : off + count]

    def put(self, data: bytes):
        off = self.addr - PAGE_OFFSET + offset
        self._mem.buf[off : off + count] = data

    return get, put


def _char_property(raw, offset: int, count: int):
    """char name[count]: read up to the NUL (ctypes does, in C); write as
    strncpy(name, value, count) does: cut to count bytes, NUL-padded.  Room for
    the NUL is the writer's to leave, as in C (set_task_comm copies count-1)."""
    _, put = _field_bytes(offset, count)
    return property(
        raw.__get__, lambda self, value: put(self, bytes(value)[:count].ljust(count, b"\0"))
    )


def _bytes_property(offset: int, count: int):
    return property(_field_bytes(offset, count)[0])


def _bits_property(offset: int, count: int):
    """A bitmap (cpumask_t) as one Python int, bit n = element n."""
    get, put = _field_bytes(offset, count)
    return property(
        lambda self: int.from_bytes(get(self), "little"),
        lambda self, value: put(self, value.to_bytes(count, "little")),
    )


def _accessor(f: Field, raw):
    """The attribute for a non-scalar field (scalars keep ctypes' own, in C)."""
    if f.sub is not None:
        # The nested view lives in a slot; __getattr__ fills it on first use.
        return property(attrgetter("_sub_" + f.name))
    if f.ctype == "char":
        return _char_property(raw, f.offset, f.count)
    if f.ctype == "bits":
        return _bits_property(f.offset, f.count)
    return _bytes_property(f.offset, f.count)


# Every view by the C name it has: "struct TAG" (a Tagged) and its typedef name.
C_NAMES: dict = {}


def c_sizes() -> dict:
    """sizeof of every struct and typedef a view is (emu/ctype.size_of's ``sizes``)."""
    return {name: view.SIZE for name, view in C_NAMES.items()}


def _check_c_type(view: str, f: Field) -> None:
    """The declared C type must be stored as the kind stores it: same size, and an
    arithmetic type of the kind's signedness (a pointer is an unsigned word).  A
    struct type stored as a scalar or bytes (atomic_t as an int) must be a view's
    of the same size."""
    if f.sub is not None:
        return
    try:
        size = c.size_of(f.c_type, c_sizes())
    except KeyError:
        raise ValueError(
            f"struct {view}: {f.name}: {c.spell(f.c_type)} is no struct view's type"
        ) from None
    ctype, signed = f.c_type, None
    while isinstance(ctype, c.Typedef) and ctype.name in c.INTEGER_TYPEDEFS:
        ctype = c.parse(c.INTEGER_TYPEDEFS[ctype.name])
    if isinstance(ctype, c.Base):
        signed = c.ARITHMETIC[ctype.name][1]
    wrong_sign = signed is not None and f.ctype in _SCALARS and signed != (f.ctype == "s32")
    if size != f.size or wrong_sign:
        raise ValueError(
            f"struct {view}: {f.name}: a {f.ctype} field cannot be {c.spell(f.c_type)!r}"
        )


def define_struct(name: str, fields: list[tuple], tag: str | None = None) -> type:
    """Build the view class for C struct ``name`` from ``(field, kind[, count][, "C type"])``.

    With ``tag`` the struct is ``typedef struct TAG name`` (wait_queue_t); with
    ``tag=""``, ``typedef struct { ... } name`` (spinlock_t)."""
    laid = tuple(Field(*spec) for spec in fields)
    nested = {f.name: f for f in laid if f.sub is not None}
    cls = _ViewType(
        name,
        (StructView,),
        {
            "__slots__": tuple("_sub_" + n for n in nested),
            "_fields_": [(f.name, f.storage()) for f in laid],
        },
    )
    for f in laid:
        raw = cls.__dict__[f.name]
        f.offset, f.size = raw.offset, raw.size
        if f.ctype not in _SCALARS:
            setattr(cls, f.name, _accessor(f, raw))
        _check_c_type(name, f)
    cls.FIELDS, cls.OFFSETS, cls._NESTED = laid, {f.name: f.offset for f in laid}, nested
    cls.SIZE, cls.ALIGN = ctypes.sizeof(cls), ctypes.alignment(cls)
    cls.TAG = name if tag is None else tag
    cls.C_TYPE = c.Tagged("struct", name) if tag is None else c.Typedef(name)
    C_NAMES[cls.C_TYPE] = cls
    if cls.TAG and tag is not None:
        C_NAMES[c.Tagged("struct", tag)] = cls
    return cls
