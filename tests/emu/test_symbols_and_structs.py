"""The machine's symbol table and the typed struct views over emulated RAM."""

from emu.memory import Memory, MemoryMap
from emu.structs import define_struct
from emu.symbols import SymbolTable


def test_describe_and_aliases():
    table = SymbolTable()
    table.add("a", 0x100, 0x10)
    table.add("alias", 0x110, 0x8)
    table.add("b", 0x110, 0x8)
    assert table.describe(0x104) == "a+0x4"
    assert table.describe(0x112) == "alias+0x2"
    assert table.describe(0x200) == "0x00000200"
    assert table.describe_sized(0x100) == "a+0x0/0x10"


def test_struct_view_reads_and_wraps_like_c():
    mem = Memory(MemoryMap(ram_size=1 << 24))
    s = define_struct("s", [("a", "u8"), ("b", "u32"), ("c", "s32"), ("name", "char", 8)])
    assert s.OFFSETS == {"a": 0, "b": 4, "c": 8, "name": 12} and s.SIZE == 20
    v = s(mem, mem.map.data)
    v.b, v.c, v.name = -1, 0xFFFFFFFF, b"a-long-name"
    assert (v.b, v.c, v.name) == (0xFFFFFFFF, -1, b"a-long-")
    assert mem.u32(mem.map.data + 4) == 0xFFFFFFFF
