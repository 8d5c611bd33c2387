"""The whole image as ld makes it, for what the gcc corpus shows only in part.

Each case is pinned to the image GNU as + ld (with ld's own default script,
ld_default_ref.ld_image) gave at 0x1000, and compared with them again where they
are installed.  Mergeable sections (asm/_merge.py) are also checked against ld on
seeded random sources: strings that repeat or end one another, alignments,
wide strings, constants, several sections of one kind, labels with addends.
"""

from __future__ import annotations

import random

import pytest
from ld_default_ref import HAVE_BINUTILS, ld_image

from asm.assembler import AsmError, assemble

ORIGIN = 0x1000


def lines(*text: str) -> str:
    return "\n".join(text) + "\n"


PINNED = [
    # .align in data pads with zeros (gcc -O2: a 32-aligned table after a jump table)
    (
        lines(".text", "nop", ".section .rodata", ".long 1", ".byte 2", ".align 32", ".long 5"),
        "9000000000000000000000000000000000000000000000000000000000000000010000000200000000000000000000000000000000000000000000000000000005000000",
    ),
    # a fill of 0x90 is bytes in data, no-ops in code
    (
        lines(".text", "nop", ".data", ".byte 1", ".align 8, 0x90", ".byte 2"),
        "9000000000000000019090909090909002",
    ),
    (
        lines(".text", "nop", ".section .text.a", ".byte 1", ".align 8, 0x90", ".byte 2"),
        "9066906690669090018db4260000000002",
    ),
    # .data exists before any .section: it comes first
    (
        lines('.section .data.foo,"aw"', ".byte 1", ".data", ".byte 2"),
        "0201",
    ),
    # an output section with nothing in it is dropped and moves nothing
    (
        lines(".text", "nop", ".section .rodata", ".align 16", ".data", ".byte 1"),
        "9001",
    ),
    # an empty input section still aligns its (kept) output section
    (
        lines(".text", "nop", ".section .rodata", ".align 16", '.section .rodata.x,"a"', ".byte 1"),
        "9000000000000000000000000000000001",
    ),
    # ld ends .bss on 4 bytes
    (
        lines(".text", "nop", ".data", ".byte 1", ".bss", ".zero 3"),
        "9001000000000000",
    ),
    # .rodata1, .data.rel.ro (before .data), .data1 (after it) are output sections
    (
        lines(
            ".text",
            "nop",
            ".data",
            ".byte 1",
            '.section .data1,"aw"',
            ".byte 2",
            '.section .data.rel.ro,"aw"',
            ".align 8",
            ".byte 3",
            '.section .rodata1,"a"',
            ".byte 4",
        ),
        "9004000000000000030102",
    ),
    # .data.rel.ro.local before .data.rel.ro
    (
        lines(
            ".text",
            "nop",
            '.section .data.rel.ro,"aw"',
            ".byte 5",
            '.section .data.rel.ro.local,"aw"',
            ".byte 6",
        ),
        "900605",
    ),
    # .text.*_unlikely first, .text.sorted.* by name
    (
        lines(
            ".text",
            "nop",
            '.section .text.foo_unlikely,"ax"',
            "ret",
            '.section .text.sorted.b,"ax"',
            "int3",
            '.section .text.sorted.a,"ax"',
            "hlt",
        ),
        "c3f4cc90",
    ),
    # a section in a group is another section of the same name, made later
    (
        lines(".text", "nop", '.section .text,"axG",@progbits,g,comdat', "ret", ".text", "hlt"),
        "90f4c3",
    ),
    # the GOT lies after .data.rel.ro, before .data
    (
        lines(
            "f: movl h@GOTOFF(%ebx), %eax",
            "g: ret",
            '.section .data.rel.ro.local,"aw"',
            ".long 9",
            ".data",
            "h: .long 5",
        ),
        "8b83ffffffffc30900000005000000",
    ),
    (
        lines(
            "f: addl $_GLOBAL_OFFSET_TABLE_, %ebx",
            " pushl h@GOT(%ebx)",
            "g: ret",
            ".data",
            "h: .long 5",
        ),
        "81c314000000ffb3fcffffffc30000002010000000000000000000000000000005000000",
    ),
    # strings merged: one repeated, one that ends another
    (
        lines(
            ".text",
            "nop",
            '.section .rodata.str1.1,"aMS",@progbits,1',
            'a: .string "hello world"',
            'b: .string "world"',
            'c: .string "hello world"',
            ".text",
            ".long a, b, c, b+2",
        ),
        "901110000017100000111000001910000068656c6c6f20776f726c6400",
    ),
    # merging with alignments, across sections of the same kind
    (
        lines(
            ".text",
            "nop",
            '.section .rodata.str1.4,"aMS",@progbits,1',
            ".align 4",
            'a: .string "ab"',
            ".align 4",
            'b: .string "b"',
            '.section .rodata.str1.1,"aMS",@progbits,1',
            'c: .string "xab"',
            'd: .string ""',
            ".text",
            ".long a, b, c, d",
        ),
        "9014100000181000001a1000001d10000000000061620000620078616200",
    ),
    # mergeable constants kept once
    (
        lines(
            ".text",
            "nop",
            '.section .rodata.cst4,"aM",@progbits,4',
            ".align 4",
            "a: .long 5",
            "b: .long 6",
            "c: .long 5",
            ".text",
            ".long a, b, c",
        ),
        "901010000014100000101000000000000500000006000000",
    ),
]

REFUSED = [
    ('.section .data.x,"ax"\n.byte 1', "setting incorrect section attributes for .data.x"),
    ('.section .text.x,"aw"\nnop', "setting incorrect section attributes for .text.x"),
    ('.section .data.x,"aw",@nobits\n.zero 1', "setting incorrect section type for .data.x"),
    ('.section .rodata.x,"a"\n.section .rodata.x,"aw"', "setting incorrect section attributes"),
    ('.section .data.x,"aw"\n.section .data.x,"awMS",@progbits,1', "changed section attributes"),
    ('.section .rodata.x,"aM",@progbits,4\n.long 1\n.byte 2', "not a multiple of its entity size"),
    ('.section .rodata.s,"aMS",@progbits,1\n.long f\nf: nop', "ld does not merge a section with"),
    ('.section .rodata.s,"aMS",@progbits,1\na: .string "x"\nb: .string "y"\n.text\n.long b-a',
     "a difference with 'a', in mergeable section '.rodata.s'"),
    ('.section .rodata.x,"aT"', "section flag 'T' of '.rodata.x' is not supported"),
    (".section .note.GNU-stack\n.byte 1", "not part of the image"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "image"), PINNED)
def test_image_is_lds(source, image):
    assert assemble(source, ORIGIN).code.hex() == image


@pytest.mark.skipif(not HAVE_BINUTILS, reason="GNU as/ld/objcopy not installed")
@pytest.mark.parametrize(("source", "image"), PINNED)
def test_pins_are_lds_images(source, image):
    assert ld_image(source, ORIGIN).code.hex() == image


@pytest.mark.parametrize(("source", "message"), REFUSED)
def test_what_ld_would_lay_out_otherwise_is_refused_by_name(source, message):
    with pytest.raises(AsmError) as caught:
        assemble(source, ORIGIN)
    assert message in caught.value.message


WORDS = ("", "a", "b", "ab", "ba", "cab", "xab", "hello", "lo", "o", "hello world", "world")


def merge_source(rng: random.Random) -> str:
    """Up to three mergeable sections, then .text words naming each label."""
    lines, refs = [".text", "nop"], []
    for index in range(rng.randint(1, 3)):
        if rng.random() < 0.7:
            unit, align = rng.choice((1, 1, 1, 2)), rng.choice((1, 1, 2, 4, 8))
            name = rng.choice((f".rodata.str{unit}.{align}", f".rodata.s{index}"))
            lines.append(f'.section {name},"aMS",@progbits,{unit}')
            for _ in range(rng.randint(1, 6)):
                if rng.random() < 0.3:
                    lines.append(f".balign {rng.choice((1, 2, 4, 8))}")
                word = rng.choice(WORDS)
                if unit == 1:
                    text = f'.{rng.choice(("string", "string", "ascii"))} "{word}"'
                else:
                    text = ".value " + ", ".join([str(ord(ch)) for ch in word] + ["0"])
                lines.append(f".L{len(refs)}: {text}")
                refs.append(f".L{len(refs)}" + (f"+{rng.randint(0, 2)}" * (rng.random() < 0.2)))
        else:
            size = rng.choice((4, 8))
            name = rng.choice((".rodata.cst", ".rodata.c")) + str(size)
            lines += [f'.section {name},"aM",@progbits,{size}', f".align {size}"]
            for _ in range(rng.randint(1, 4)):
                lines.append(
                    f".L{len(refs)}: .{'long' if size == 4 else 'quad'} {rng.randint(1, 3)}"
                )
                refs.append(f".L{len(refs)}")
        if rng.random() < 0.3:
            lines += [".section .rodata", ".byte 7"]
    return "\n".join([*lines, ".text", *(f".long {ref}" for ref in refs)]) + "\n"


def test_merge_sources_are_varied():
    rng = random.Random(5)
    sources = [merge_source(rng) for _ in range(50)]
    assert len(set(sources)) == 50
    assert any(".ascii" in source for source in sources)
    assert any(".value" in source for source in sources)
    assert any(".quad" in source for source in sources)


@pytest.mark.skipif(not HAVE_BINUTILS, reason="GNU as/ld/objcopy not installed")
def test_merged_sections_are_lds():
    rng = random.Random(20091202)
    different = []
    for _ in range(120):
        source = merge_source(rng)
        ours = assemble(source, ORIGIN).code
        theirs = ld_image(source, ORIGIN).code
        if ours != theirs:
            different.append(f"{source}\nours {ours.hex()}\nld   {theirs.hex()}")
    assert not different, f"{len(different)} differ; the first:\n{different[0]}"
