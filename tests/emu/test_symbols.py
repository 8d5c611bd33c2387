"""The machine's symbol table."""

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
