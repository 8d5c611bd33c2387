"""The Image API: symbols, globals, lines and listing, defines, and the content cache."""

from __future__ import annotations

import struct

import pytest
from asm_gnu_ref import HAVE_GNU_AS, gnu_assemble

from asm import assembler
from asm.assembler import Image, Line, assemble, assemble_file, listing

SOURCE = """\
/* kernel_thread_helper, as entry_32.S has it */
	.globl helper
helper:
	pushl $0            # fake return address
	movl %edx, %eax
	call *%ebx
	call do_exit
1:	jmp 1b
	.set answer, 42
after = helper + 4
.Lhidden: ret
"""


def image() -> Image:
    return assemble(SOURCE, 0xC0100000, "helper.S", {"do_exit": 0xC0200040})


def test_image_fields():
    img = image()
    assert img.origin == 0xC0100000
    assert img.code == bytes.fromhex("6a00 89d0 ffd3 e835001000 ebfe c3")
    assert img.symbols == {
        "helper": 0xC0100000,
        "answer": 42,
        "after": 0xC0100004,
        ".Lhidden": 0xC010000D,
    }
    assert img.globals == frozenset({"helper"})


def test_lines_map_addresses_back_to_source():
    img = image()
    assert img.lines[0] == Line(0xC0100000, 0, 3, "helper:")
    assert Line(0xC0100006, 5, 7, "call do_exit") in img.lines
    assert Line(0xC010000B, 2, 8, "1:\tjmp 1b") in img.lines
    assert all(line.size or line.text.endswith(":") for line in img.lines)
    assert sum(line.size for line in img.lines) == len(img.code)


def test_listing_has_one_row_per_statement():
    rows = listing(image()).splitlines()
    assert len(rows) == len(image().lines)
    assert rows[1].split() == ["4", "c0100000", "6a00", "pushl", "$0"]
    assert "e835001000" in rows[4] and "call do_exit" in rows[4]


def test_listing_shortens_long_data():
    rows = listing(assemble(".skip 100, 0xaa\n")).splitlines()
    assert rows == [f"    1  00000000  {'aa' * 16}...{' ' * 0} .skip 100, 0xaa"]


def test_call_to_a_define_lands_exactly_on_it():
    for origin in (0, 0x1000, 0xC0100000, 0xC0300000):
        code = assemble("nop\ncall do_exit\n", origin, defines={"do_exit": 0xC0200040}).code
        assert (origin + 6 + struct.unpack_from("<i", code, 2)[0]) & 0xFFFFFFFF == 0xC0200040


def test_defines_work_wherever_a_symbol_can_go():
    defines = {"PT_EAX": 0x18, "current": 0xC0300000, "flags_if": 0x200, "fn": 0xC0200000}
    source = (
        "movl $PT_EAX, %eax\nmovl PT_EAX(%esp), %eax\nmovl %fs:current, %ebx\n"
        "orl $(flags_if|0x2), %ecx\njmp fn\nje fn\n.long fn, PT_EAX+4\n"
    )
    code = assemble(source, 0x1000, defines=defines).code
    assert code.startswith(bytes.fromhex("b818000000 8b442418 648b1d0000 30c0".replace(" ", "")))
    assert bytes.fromhex("81c902020000") in code
    assert code.endswith(bytes.fromhex("000020c0 1c000000".replace(" ", "")))


def test_set_symbols_take_their_last_value_and_dot_moves():
    img = assemble(".set x, 1\n.long x\n.set x, x + 1\n.long x, .\n")
    assert img.code == struct.pack("<III", 1, 2, 8)
    assert img.symbols == {"x": 2}


def test_relaxation_grows_only_what_does_not_reach():
    source = "jmp far\n" + "jmp near\n" + ".skip 120\nnear: nop\n" + ".skip 10\nfar: nop\n"
    code = assemble(source).code
    assert code[:5] == b"\xe9" + struct.pack("<i", 2 + 120 + 1 + 10)
    assert code[5:7] == b"\xeb" + bytes([120])


def test_local_numeric_labels_are_not_symbols():
    img = assemble("1: nop\n2: jmp 1b\n1: jmp 2b\n")
    assert img.symbols == {}
    assert img.code == bytes.fromhex("90ebfdebfc")


def test_text_directive_is_a_no_op():
    assert assemble(".text\nnop\n.text\n").code == b"\x90"


def test_empty_source():
    img = assemble("")
    assert (img.code, img.symbols, img.lines) == (b"", {}, ())


def test_cached_call_gives_an_equal_image_without_assembling(monkeypatch):
    """The cache answers a repeated call (its speed is `make bench`'s
    asm_cached_call_in_round_trips); the inputs are not laid out again."""
    source = SOURCE + "\n".join(f"l{i}: addl ${i}, %eax" for i in range(300))
    defines = {"do_exit": 0xC0200040}
    first = assemble(source, 0xC0100000, "big.S", defines)

    def no_layout(*args):
        raise AssertionError("assembled again")

    monkeypatch.setattr(assembler, "_assemble", no_layout)
    assert assemble(source, 0xC0100000, "big.S", defines) == first


def test_cache_key_covers_every_input():
    base = assemble("movl $x, %eax", 0, "a.S", {"x": 1})
    assert assemble("movl $x, %eax", 0, "a.S", {"x": 2}).code != base.code
    assert assemble("movl $x, %eax", 4, "a.S", {"x": 1}).origin == 4
    with pytest.raises(Exception) as caught:
        assemble("movl $y, %eax", 0, "b.S", {"x": 1})
    assert caught.value.filename == "b.S"


def test_cached_image_cannot_be_changed_through_a_caller():
    first = assemble("a: nop")
    first.symbols["a"] = 99
    assert assemble("a: nop").symbols == {"a": 0}


def test_assemble_file(tmp_path):
    path = tmp_path / "f.S"
    path.write_text("f: movl $1, %eax\nret\n")
    img = assemble_file(path, 0x2000)
    assert img.code == bytes.fromhex("b801000000c3") and img.symbols == {"f": 0x2000}


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as not installed")
def test_macro_counter_matches_gnu_as():
    source = ".macro m\n.long \\@\n.endm\nm\nm\n.macro n\nm\n.byte \\@\n.endm\nn\n"
    assert assemble(source).code == gnu_assemble(source)
