"""Typed struct views over emulated RAM: i386 layout, C assignment semantics,
char/bits/bytes/nested fields, the view methods, bounds, and the view cache."""

import pytest

from emu.memory import PAGE_OFFSET, BadAddress, Memory, MemoryMap
from emu.structs import StructView, define_struct

inner = define_struct("inner", [("sp0", "u32"), ("sp", "u32")])
outer = define_struct(
    "outer",
    [
        ("a", "u8"),
        ("h", "u16"),
        ("b", "u32"),
        ("c", "s32"),
        ("name", "char", 8),
        ("tag", "u8"),
        ("mask", "bits", 4),
        ("blob", "bytes", 3),
        ("thread", inner),
        ("p", "ptr"),
    ],
)


@pytest.fixture
def mem():
    return Memory(MemoryMap(ram_size=1 << 22))


@pytest.fixture
def view(mem):
    return outer(mem, mem.map.data)


def test_layout_follows_i386_alignment():
    assert outer.OFFSETS == {
        "a": 0, "h": 2, "b": 4, "c": 8, "name": 12, "tag": 20, "mask": 21,
        "blob": 25, "thread": 28, "p": 36,
    }  # fmt: skip
    assert (outer.SIZE, outer.ALIGN, inner.SIZE) == (40, 4, 8)
    assert [(f.name, f.offset, f.size) for f in outer.FIELDS][-2:] == [
        ("thread", 28, 8),
        ("p", 36, 4),
    ]
    char_only = define_struct("char_only", [("a", "u8"), ("s", "char", 3)])
    assert (char_only.SIZE, char_only.ALIGN) == (4, 1)


def test_scalars_wrap_to_the_fields_width_and_sign(mem, view):
    base = view.addr
    view.b, view.c, view.a, view.h, view.p = -1, 0xFFFFFFFF, 300, 0x12345, (1 << 32) + 5
    assert (view.b, view.c, view.a, view.h, view.p) == (0xFFFFFFFF, -1, 44, 0x2345, 5)
    assert mem.u32(base + 4) == 0xFFFFFFFF and mem.u32(base + 8) == 0xFFFFFFFF
    assert mem.read(base, 4) == bytes([44, 0, 0x45, 0x23])
    view.c = -(1 << 31) - 1  # below INT_MIN: wraps to INT_MAX
    assert view.c == (1 << 31) - 1


def test_fields_are_the_bytes_of_ram(mem, view):
    mem.set_u32(view.addr + 36, 0xC0FFEE)
    assert view.p == 0xC0FFEE
    view.thread.sp = 0xDEADBEEF
    assert mem.u32(view.addr + 28 + 4) == 0xDEADBEEF


def test_char_reads_to_the_nul_and_writes_cut_and_padded(mem, view):
    view.name = b"a-long-name"  # strncpy: cut to the field, no room left for a NUL
    assert view.name == b"a-long-n"
    assert mem.read(view.addr + 12, 8) == b"a-long-n" and view.tag == 0
    view.name = b"a-long-"
    assert mem.read(view.addr + 12, 8) == b"a-long-\0"
    view.name = b"ab"  # the rest is cleared, not left over
    assert view.name == b"ab" and mem.read(view.addr + 12, 8) == b"ab" + bytes(6)
    assert view.tag == 0  # the field after it is untouched


def test_bits_are_one_int_bit_n_is_element_n(mem, view):
    view.mask = 1 << 9 | 1
    assert mem.read(view.addr + 21, 4) == bytes([1, 2, 0, 0])
    mem.write(view.addr + 21, bytes([0, 0, 0, 0x80]))
    assert view.mask == 1 << 31


def test_bytes_are_read_only_raw_bytes(mem, view):
    mem.write(view.addr + 25, b"\0\x01\0")
    assert view.blob == b"\0\x01\0"
    with pytest.raises(AttributeError):
        view.blob = b"xyz"


def test_nested_struct_is_a_view_at_its_offset(mem, view):
    assert isinstance(view.thread, inner) and view.thread.addr == view.addr + 28
    assert view.thread is view.thread  # made once, kept by its outer view
    view.thread.sp0 = 7
    assert inner(mem, view.addr + 28).sp0 == 7
    with pytest.raises(AttributeError):
        view.thread = inner(mem, view.addr + 100)


def test_unknown_fields_raise_on_get_and_set(view):
    with pytest.raises(AttributeError, match="has no field 'flagz'"):
        view.flagz  # noqa: B018
    with pytest.raises(AttributeError):
        view.flagz = 1


def test_zero_raw_copy_from_values(mem, view):
    view.b, view.name, view.thread.sp = 5, b"x", 9
    assert view.raw() == mem.read(view.addr, outer.SIZE)
    other = outer(mem, view.addr + 0x100)
    other.copy_from(view)
    assert other.raw() == view.raw() and other.thread.sp == 9
    values = view.values()
    assert list(values) == [f.name for f in outer.FIELDS if f.name != "thread"]
    assert values["b"] == 5 and values["name"] == b"x"
    view.zero()
    assert view.raw() == bytes(outer.SIZE)


def test_views_compare_by_address(mem, view):
    again = outer(mem, view.addr)
    assert again is view  # one view per (type, address): a window, kept
    mem.views[outer].clear()
    again = outer(mem, view.addr)
    assert again is not view and again == view and hash(again) == hash(view)
    assert outer(mem, view.addr + 4) != view
    assert repr(view) == f"<outer at {view.addr:#010x}>"
    assert isinstance(view, StructView)


@pytest.mark.parametrize(
    "where, first_bad",
    [
        (lambda m: m.end - outer.SIZE + 4, lambda m: m.end),  # its tail leaves RAM
        (lambda m: m.end, lambda m: m.end),
        (lambda m: PAGE_OFFSET - 4, lambda m: PAGE_OFFSET - 4),
        (lambda m: 0, lambda m: 0),
        (lambda m: 0xFFFFFFFC, lambda m: 0xFFFFFFFC),
        (lambda m: -8, lambda m: 0xFFFFFFF8),
    ],
)
def test_a_view_outside_ram_is_bad_address(mem, where, first_bad):
    with pytest.raises(BadAddress) as err:
        outer(mem, where(mem))
    assert err.value.address == first_bad(mem)


def test_the_last_struct_in_ram_works(mem):
    last = outer(mem, mem.end - outer.SIZE)
    last.p = 0x12345678
    assert mem.u32(mem.end - 4) == 0x12345678 and last.p == 0x12345678


def test_each_type_gives_one_view_per_address(mem):
    a = outer(mem, mem.map.data)
    assert outer(mem, mem.map.data) is a and mem.views[outer] == {a.addr: a}
    assert inner(mem, mem.map.data) is inner(mem, mem.map.data) is not a
    with pytest.raises(BadAddress):
        outer(mem, PAGE_OFFSET - 4)
    assert list(mem.views[outer]) == [a.addr]  # a refused address is not cached


def test_each_memory_has_its_own_views():
    one, two = Memory(MemoryMap(ram_size=1 << 22)), Memory(MemoryMap(ram_size=1 << 22))
    outer(one, one.map.data).b = 1
    outer(two, two.map.data).b = 2
    assert outer(one, one.map.data).b == 1 and outer(two, two.map.data).b == 2
    assert one.views[outer] is not two.views[outer]
