"""Forms real files use whose meaning is GNU as's own (issue 12): `.org`, `.space`
sized by later labels, a label defined twice at one spot, label differences across
sections, string instructions with odd operands, `.skip` with a negative count.

Each source is pinned to the bytes GNU as 2.40 + `ld -Ttext 0x1000` give (None: GNU
as or ld refuses it); where the binutils are installed the pins are checked again.
"""

from __future__ import annotations

import pytest
from asm_gnu_ref import HAVE_GNU_AS, gnu_verdict

from asm.assembler import AsmError, assemble

ORIGIN = 0x1000

CASES = (
    # .org: an offset in the current section or a label of it; forward only; fill
    ("nop\n.org 4\nnop", "9000000090"),
    ("nop\n.org 8, 0xcc\nnop", "90" + "cc" * 7 + "90"),
    ("start: nop\n.org start+6, 0x11\nnop", "90" + "11" * 5 + "90"),
    ("nop\n.org . + 3\nnop", "9000000090"),
    ("nop\n.org 4, 0x1234\nnop", "9034343490"),
    ("nop\n.org k\nnop\n.set k, 3", "90000090"),
    (".data\n.byte 1\n.org 4\n.byte 2\n.text\nnop\n.org 2\nnop", "9000900100000002"),
    ("nop\n.org 3\nnop\n.p2align 3\n.org 12\nnop", "900000908d7426000000000090"),
    ("jmp x\n.org 200\nx: nop", "e9c3000000" + "00" * 195 + "90"),
    ("x: nop\n.org 200\njmp x", "90" + "00" * 199 + "e933ffffff"),
    (".org 2\n.text 1\nnop\n.org 6\n.text 0\n.byte 3", "000003900000"),
    ("nop;nop;nop\n.org 1\nnop", None),
    (".org -1", None),
    (".data\nd: .long 0\n.text\n.org d", None),
    # .space/.skip sized by labels defined later (a negative size is ignored)
    (".space end-start\nstart: nop\nnop\nend:", "00009090"),
    (".skip end-start, 0x90\nstart: nop\nnop\nend:", "90909090"),
    ("start: nop\n.skip start-end\nend:", "90"),
    ("jmp end\n.space end-start\nstart: .fill 200,1,0x90\nend: jmp start",
     "e990010000" + "00" * 200 + "90" * 200 + "e933ffffff"),
    (".space end-start\nstart: jmp end\n.fill 120,1,0x90\nend:",
     "00" * 122 + "eb78" + "90" * 120),
    (".skip n\nnop\nn = 4", "0000000090"),
    (".skip lbl\nlbl: nop", None),
    # a label twice: allowed where nothing lies between, or after `=`/`.set`
    ("a: a: nop", "90"),
    ("a:\nb:\na: nop", "90"),
    ("a:\n.data\n.long 1\n.text\na: nop", "9001000000"),
    ("a:\n.globl a\n.type a, @function\na: nop", "90"),
    ("a = 5\na: nop\n.long a", "9000100000"),
    ("a: nop\na: nop", None),
    ("a:\n.p2align 2\na: nop", None),
    ("a: jmp 1f\n1:\na:", None),
    ("a:\n.text 1\na:", None),
    (".equiv a, 5\na: nop", None),
    ("a:\na = 5", None),
    # a subtracted label must be in the added one's section or the current one
    (".set ext, 5\n.data\n1: .long 0\n.text\nmovl $ext-1b, %eax", None),
    (".set ext, 5\nmovl $ext-1f, %eax\n.data\n1: .long 0", None),
    (".set ext, 5\n1: nop\nmovl $ext-1b, %eax", "90b805f0ffff"),
    (".long a-b\n.data\na: .long 0\n.bss\nb: .skip 4", None),
    ("movl $a-b, %eax\n.data\na: .long 0\n.bss\nb: .skip 4", None),
    (".long a-b\n.data\na: .long 0\n.text\nb: nop", "010000009000000000"),
    (".long a-b\n.data\na: .long 0\nb: .long 0", "fcffffff0000000000000000"),
    (".comm c, 4\n.long .-c", None),
    # string instructions: the accumulator only where GNU as's templates have it
    ("scas %eax", None),
    ("stos %eax", None),
    ("lodsb %al", None),
    ("lodsb do_exit", None),
    ("lods do_exit, %al", None),
    ("lodsl 5", None),
    ("stosw 0x10000, 'a", None),
    ("stos (%edi), %al", None),
    ("scas %al, (%edi)", None),
    ("movsb %al, (%edi)", None),
    ("scasb do_exit", "ae"),
    ("stosw %ax, 0x10000", "66ab"),
    ("lodsb x(,%esi)", "ac"),
    ("lods (%esi), %ax", "66ad"),
    ("scas %es:(%edi), %eax", "af"),
    ("stos %eax, %es:(%edi)", "ab"),
    # .skip with a negative count: ignored, unless the fill is not a byte
    (".skip -1, -255", None),
    (".skip -2, 256", None),
    (".skip -1, -128", ""),
    (".skip -1, 255", ""),
    (".skip 1, -255", "01"),
    # found by `make fuzz`: (%dx) is only a port, an index must follow a comma
    ("lock cmpxchgb %cl, (%dx)", None),
    ("movl 4(%dx), %eax", None),
    ("outsb (%esi), (%dx)", "6e"),
    ("lock incl (%eax,)", None),
    ("incl (%eax,%ebx,)", "ff0418"),
    # clang's .addrsig: GNU as 2.40 does not know it, so neither do we
    ("nop\n.addrsig", None),
    ("nop\n.addrsig_sym f", None),
)  # fmt: skip


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_we_give_gnu_as_bytes_or_refuse(source, expected):
    if expected is None:
        with pytest.raises(AsmError):
            assemble(source, ORIGIN)
    else:
        assert assemble(source, ORIGIN).code.hex() == expected


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
@pytest.mark.parametrize(("source", "expected"), CASES)
def test_pins_are_gnu_as_verdicts(source, expected):
    verdict = gnu_verdict(source, ORIGIN)
    assert (verdict.hex() if isinstance(verdict, bytes) else None) == expected


def test_refusals_name_the_construct():
    messages = {
        "nop;nop\n.org 1": "attempt to move .org backwards",
        ".data\nd: .long 0\n.text\n.org d": ".org target is not in section '.text'",
        "nop\n.org 1f\n1: nop": ".org to a label defined after it",
        ".set ext, 5\n.data\n1: .long 0\n.text\nmovl $ext-1b, %eax":
            "can't resolve a label of .data subtracted in .text",
        "scas %eax": "operand size mismatch for 'scas'",
        "lodsb do_exit": "invalid instruction suffix for 'lods' from a bare address",
        ".skip -1, -255": "size value for .skip too large: ffffffffffffffff",
    }  # fmt: skip
    for source, message in messages.items():
        with pytest.raises(AsmError) as caught:
            assemble(source)
        assert message in caught.value.message, source
