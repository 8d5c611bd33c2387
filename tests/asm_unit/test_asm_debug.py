"""Debug information: gcc -g's DWARF sections, `.loc` line tables and `.cfi_*` call
frames, as GNU as + ld make them (ld_default_ref.py is the oracle).

The gcc corpus compiled with -g (DWARF 5, and -gdwarf-4) and with
-fno-asynchronous-unwind-tables (CFI in .debug_frame): the image, every DWARF
section's bytes and the call frames pyelftools decodes from GNU's link must be
ours.  The Image's line rows and frames are what the sections say; a source
without `.loc` gets the rows `as -g` would give it; the entry code's CFI macros
(handwritten/entry_cfi.S) give GNU's frames.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from elftools.dwarf.callframe import FDE, CallFrameInfo
from elftools.dwarf.structs import DWARFStructs
from ld_default_ref import HAVE_BINUTILS, ld_frames, ld_image, ld_line_rows
from test_asm_gcc_corpus import HAVE_GCC, c_files, compiled

from asm.assembler import AsmError, Image, assemble, assemble_file

ORIGIN = 0xC0100000
HERE = Path(__file__).resolve().parent
FLAG_SETS = (
    ("-O0", "-g"),
    ("-O2", "-fpic", "-g"),
    ("-O2", "-g", "-fno-asynchronous-unwind-tables"),
    ("-Os", "-gdwarf-4"),
)
NEEDS = pytest.mark.skipif(not (HAVE_GCC and HAVE_BINUTILS), reason="gcc or GNU binutils missing")


def frames_of(image: Image) -> list[tuple]:
    """An Image's frames in ld_frames' form."""
    return sorted(
        (frame.start, frame.end, tuple((r.addr, r.cfa_register, r.cfa_offset, r.rules)
                                       for r in frame.rows))
        for frame in image.frames
    )  # fmt: skip


def rows_of(image: Image) -> list[tuple]:
    """An Image's line rows in ld_line_rows' form."""
    return _comparable(
        (row.addr, row.file, row.line, row.column, row.is_stmt, row.discriminator,
         row.end_sequence)
        for row in image.line_rows
    )  # fmt: skip


def _comparable(rows) -> list[tuple]:
    """pyelftools clears is_stmt on an end_sequence row (DWARF keeps it): so ignore it."""
    return [(*row[:4], bool(row[4]) and not row[6], *row[5:]) for row in rows]


def gnu_rows(source: str, as_flags: tuple[str, ...] = ()) -> list[tuple]:
    return _comparable(ld_line_rows(source, ORIGIN, as_flags))


def _differences(name: str, flags: tuple[str, ...]) -> list[str]:
    source = compiled(C_DIR / name, flags)
    shown = f"{name} {' '.join(flags)}"
    try:
        ours = assemble(source, ORIGIN, name)
    except AsmError as err:
        return [f"{shown}: refused: {err.message}"]
    theirs = ld_image(source, ORIGIN)
    found = [] if ours.code == theirs.code else [f"{shown}: image"]
    dwarf = {key: data for key, data in ours.debug.items() if key != ".eh_frame"}
    for key in sorted(set(dwarf) | set(theirs.debug)):
        if dwarf.get(key) != theirs.debug.get(key):
            found.append(f"{shown}: {key}")
    if frames_of(ours) != ld_frames(source, ORIGIN):
        found.append(f"{shown}: call frames")
    return found


C_DIR = HERE.parent / "asm_c"


@NEEDS
def test_gcc_g_output_gives_lds_image_dwarf_and_frames():
    jobs = [(path.name, flags) for path in c_files() for flags in FLAG_SETS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = [line for lines in pool.map(lambda job: _differences(*job), jobs) for line in lines]
    assert not found, f"{len(found)} differences:\n" + "\n".join(found)


@NEEDS
@pytest.mark.parametrize("flags", [("-O2", "-g"), ("-O0", "-gdwarf-4")])
def test_line_rows_are_the_line_table(flags):
    source = compiled(C_DIR / "jump_table_data.c", flags)
    image = assemble(source, ORIGIN)
    assert len(image.line_rows) > 20
    assert rows_of(image) == gnu_rows(source)


@pytest.mark.skipif(not HAVE_BINUTILS, reason="GNU binutils missing")
@pytest.mark.parametrize(
    "path", sorted((HERE / "handwritten").glob("*.S")), ids=lambda path: path.name
)
def test_source_without_loc_gets_the_rows_as_g_gives(path):
    image = assemble_file(path, ORIGIN)
    assert image.line_rows and ".debug_line" in image.debug
    assert rows_of(image) == gnu_rows(path.read_text(), ("-g",))


def test_line_rows_of_a_source_without_loc_are_its_instructions():
    image = assemble("f:\n\tnop\n\tmovl $1, %eax\n1:\tret\n.data\n.long 5\n", 0x1000, "f.S")
    assert [(row.addr, row.line, row.end_sequence) for row in image.line_rows] == [
        (0x1000, 2, False), (0x1001, 3, False), (0x1006, 4, False), (0x1007, 4, True)
    ]  # fmt: skip
    table = image.debug[".debug_line"]
    assert table[4:6] == b"\x03\x00" and b"f.S\0" in table


ENTRY = HERE / "handwritten" / "entry_cfi.S"


@pytest.mark.skipif(not HAVE_BINUTILS, reason="GNU binutils missing")
@pytest.mark.parametrize("sections", ["", ".cfi_sections .debug_frame\n"])
def test_entry_code_cfi_macros_give_gnus_frames(sections):
    source = sections + ENTRY.read_text()
    image = assemble(source, ORIGIN)
    assert len(image.frames) == 3 and image.frames[1].signal_frame
    if sections:  # pyelftools reads no "S" augmentation in .debug_frame: the bytes, then
        assert image.debug[".debug_frame"] == ld_image(source, ORIGIN).debug[".debug_frame"]
    else:
        assert frames_of(image) == ld_frames(source, ORIGIN)


def test_eh_frame_is_placed_after_the_image_and_says_what_frames_say():
    image = assemble(ENTRY.read_text(), ORIGIN)
    data = image.debug[".eh_frame"]
    address = (ORIGIN + len(image.code) + 3) & ~3
    structs = DWARFStructs(little_endian=True, dwarf_format=32, address_size=4)
    info = CallFrameInfo(io.BytesIO(data), len(data), address, structs, for_eh_frame=True)
    decoded = []
    for entry in info.get_entries():
        if isinstance(entry, FDE):
            start = entry.header["initial_location"]
            rows = tuple(
                (line["pc"], line["cfa"].reg, line["cfa"].offset)
                for line in entry.get_decoded().table
            )
            decoded.append((start, start + entry.header["address_range"], rows))
    ours = [(f.start, f.end, tuple((r.addr, r.cfa_register, r.cfa_offset) for r in f.rows))
            for f in image.frames]  # fmt: skip
    assert decoded == ours


DEBUG_SOURCE = (
    ".text\n.Ltext0:\nf: nop\n.Letext0:\n"
    '.section .debug_str,"MS",@progbits,1\n.LASF0: .string "f"\n.LASF1: .string "xf"\n'
    '.section .debug_info,"",@progbits\n.Ldebug_info0:\n'
    ".long .LASF0, .LASF1, .Ltext0, .Letext0-.Ltext0\n.uleb128 300\n.sleb128 -129\n"
)


def test_debug_sections_stay_out_of_the_image_and_its_symbols():
    image = assemble(DEBUG_SOURCE, 0x1000)
    assert image.code == b"\x90"
    assert set(image.symbols) == {".Ltext0", ".Letext0", "f"}
    # ld keeps "f" as the end of "xf"; a label of .text is its address
    assert image.debug[".debug_str"] == b"xf\0"
    assert image.debug[".debug_info"].hex() == "01000000000000000010000001000000ac02ff7e"


@pytest.mark.skipif(not HAVE_BINUTILS, reason="GNU binutils missing")
def test_debug_sections_are_lds():
    theirs = ld_image(DEBUG_SOURCE, 0x1000).debug
    ours = assemble(DEBUG_SOURCE, 0x1000).debug
    assert {key: ours[key] for key in theirs} == theirs


LOC_SOURCES = [
    # DWARF 5 with MD5s
    '.file 0 "/d" "a.c" md5 0x00112233445566778899aabbccddeeff\n'
    '.file 1 "a.c" md5 0x00112233445566778899aabbccddeeff\n.loc 1 3\nnop\n',
    # files in directories, flags, isa, a line far away, an alignment between rows
    '.file 1 "a.c"\n.file 2 "sub/b.c"\n.loc 1 3 4 prologue_end\nnop\n.loc 2 300 basic_block\n'
    "nop\n.loc 1 1 epilogue_begin isa 2\nret\n.p2align 4\n.loc 1 9\nnop\n",
    # a sequence per section, in the order of their first rows
    '.file 1 "a.c"\n.loc 1 3\nnop\n.section .text.b,"ax"\n.loc 1 5\nret\n.text\n.loc 1 4\nint3\n',
    # views: numbered at one address, reset by -0, named for .debug_info
    '.file 1 "/abs/a.c"\n.loc 1 3 view .V1\n.loc 1 3 view .V2\nnop\n.loc 1 4 view -0\n'
    ".loc 1 4 view .V3\nnop\n.section .debug_info\n.long .V1, .V2, .V3\n",
    # two .loc before one instruction; long advances (const_add_pc, advance_pc)
    '.file 1 "a.c"\n.loc 1 3\n.loc 1 5\nnop\n.skip 300\n.loc 1 2\nnop\n.skip 70000\n'
    ".loc 1 900\nnop\n",
]


@pytest.mark.skipif(not HAVE_BINUTILS, reason="GNU binutils missing")
@pytest.mark.parametrize("source", LOC_SOURCES)
def test_loc_line_tables_are_gnus(source):
    """(GNU as also writes a compile unit for such a source, .debug_info and the rest
    naming itself and the working directory: not made here, see docs/assembler.md.)"""
    ours = assemble(source, 0x1000).debug
    theirs = ld_image(source, 0x1000).debug
    assert ours[".debug_line"] == theirs[".debug_line"]
    if ".debug_info" in ours:
        assert ours[".debug_info"] == theirs[".debug_info"][: len(ours[".debug_info"])]


@pytest.mark.skipif(not HAVE_BINUTILS, reason="GNU binutils missing")
def test_leb128_is_gnus():
    source = ".text\n.uleb128 0, 127, 128, 624485, -1\n.sleb128 -1, 63, 64, -64, -65, 0x7fffffff\n"
    ours = assemble(source, 0x1000).code
    assert ours.hex().startswith("007f8001e58e26")
    assert ours == ld_image(source, 0x1000).code


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('.file 1 "a.c"\nnop\n.loc 1 1 view .LVU1\n.loc 1 2 view 0\n', "view number mismatch"),
        ('.file 1 "a.c"\n.loc 1 1 flavour 2\n', "unknown .loc sub-directive 'flavour'"),
        ('.file 1 "a.c"\n.loc 2 1\n', "unassigned file number 2"),
        (".cfi_startproc\n.cfi_personality 0, p\n.cfi_endproc", "'.cfi_personality' is not"),
        (".cfi_startproc\n.cfi_restore_state\n.cfi_endproc", "CFI state restore without"),
        (".cfi_startproc\n.cfi_startproc\n", "previous CFI entry not closed"),
        (".cfi_offset 3, 4", "used without previous .cfi_startproc"),
        (".cfi_startproc\n.cfi_offset %foo, 4\n.cfi_endproc", "bad register expression '%foo'"),
        ("a: .uleb128 a", ".uleb128 of an address is not supported"),
        ('.section .debug_info,"aw"\n', "setting incorrect section attributes for .debug_info"),
    ],
)
def test_debug_directives_gnu_refuses_are_refused(source, message):
    with pytest.raises(AsmError) as caught:
        assemble(source)
    assert message in caught.value.message


def test_a_frame_is_open_per_section():
    source = ".cfi_startproc\nnop\n.section .text.b\n.cfi_startproc\nret\n.cfi_endproc\n"
    image = assemble(source + ".text\n.cfi_endproc\n", 0x1000)
    assert [(frame.start, frame.end) for frame in image.frames] == [
        (0x1000, 0x1001),
        (0x1001, 0x1002),
    ]


@pytest.mark.skipif(not HAVE_BINUTILS, reason="GNU binutils missing")
def test_the_oracle_decodes_gnus_frames():
    """A broken oracle would agree with anything: it must see what GNU as wrote."""
    source = "f:\n.cfi_startproc\npushl %ebp\n.cfi_adjust_cfa_offset 4\nret\n.cfi_endproc\n"
    rows = ((0, 4, 4, ((8, ("offset", -4)),)), (1, 4, 8, ((8, ("offset", -4)),)))
    assert ld_frames(source, 0) == [(0, 2, rows)]
