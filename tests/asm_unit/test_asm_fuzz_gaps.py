"""Sources GNU as accepts that we refused until `make fuzz` counted them (issue 12),
one group per cause, and the refusals that stay, each by name.

Each source is pinned to the bytes GNU as 2.40 + `ld -Ttext 0x1000` give (None: GNU
as or ld refuses it); where the binutils are installed the pins are checked again.
"""

from __future__ import annotations

import pytest
from asm_gnu_ref import HAVE_GNU_AS, gnu_verdict, gnu_warnings
from test_asm_fuzz import load_fuzz_tool

from asm.assembler import AsmError, assemble

ORIGIN = 0x1000

CASES = (
    # a folded value is cut to 32 bits first, silently; a sized operation's
    # immediate is then signed, a byte or word one's 0..0xffff signed from 16 bits
    ("int $0x100000003", "cc"),
    ("andl $0x100000000, %esi", "83e600"),
    ("pushl $0x1ffffffff", "6aff"),
    ("movl 0x1ffffffff(%eax), %eax", "8b40ff"),
    ("ljmp $0x100000008, $0x1ffffffff", "eaffffffff0800"),
    ("int $0x1ffffffff", None),
    ("movb $0xffff, %al", "b0ff"),
    ("addw $0xffff, %dx", "6683c2ff"),
    ("movb $~040000000000, %al", "b0ff"),
    ("int $0xffff", None),
    # GNU as checks no range in 4-byte data
    (".long 0x10504ea48, -0x100000001", "48ea0405ffffffff"),
    # a character constant is its decimal value before the line is split
    ("movl $' , %eax", "b820000000"),
    (".long ' ", "20000000"),
    # an escaped quote does not end a string
    ('.ascii "\\"", "\\""', "2222"),
    # .balignw/.balignl/.p2alignw/.p2alignl: a 2- or 4-byte fill pattern
    ("nop\nnop\n.balignw 4, 0x1234\nret", "90903412c3"),
    ("nop;nop;nop;nop\n.p2alignl 3, 0x11223344\nret", "9090909044332211c3"),
    ("nop\n.balignw 4, 0x1234\nret", None),
    # .skip, .balign and .fill of nothing; a fill that is not a byte, repeated 0 times
    (".skip\n.balign\n.fill\nnop", "90"),
    (".skip 0, 0x100", ""),
    # .end: nothing after it is read
    ("nop\n.end\nfoo bar", "90"),
    # == and != on anything, < and the like in one section, !S is "S's offset is 0",
    # binary ! is or-not; two labels of one fragment fold to a constant
    ("x: nop\n.long x == 5, x != x, x < x, !x, !.", "900000000000000000000000000100000000000000"),
    (".long 5 ! 1", "ffffffff"),
    ("nop\n.data\nd: .long 0\n.text\nx: .long d == x", None),
    (".long u == u, u == v, !u, (u+1) == 5", "ffffffff000000000100000000000000"),
    (".long (u*2) == 5", None),
    ("x: .fill 1, 4, (x == .)", "ffffffff"),
    # ...which GNU as resolves at once where it needs a number, not in an instruction
    (".fill 1, 4, 1f != 5\n1:", "ffffffff"),
    ("x: pushl $. <> x", "6800000000"),
    ("x: .fill 1, 4, !x", None),
    ("1: nop\n.long --1b", None),
    (".long (do_exit - x) != .\nx:\n.set do_exit, 5", None),
    # a .set of an undefined symbol (plus a number) is an error only where used
    (".set s, u + 4\nnop", "90"),
    (".set s, u\n.long s", None),
    ("sy_four=4 %edx", None),
    # `name == expr` is .eqv
    ("je ==  0x12c34\nx == 5\n.long x, je", "05000000342c0100"),
    # .bss takes a subsection number
    (".bss 1\n.long 0\n.text\nnop", "9000000000"),
)  # fmt: skip

# Refused by name although GNU as accepts them (what tools/fuzz_asm.py counts).
NAMED = (
    ("je == x + 1", "'.eqv' ('je ==') of an expression with symbols is not supported"),
    ("pushl= %eax", "symbol 'pushl' set to a register (%eax) is not supported"),
    ("nop\n\0nop", "NUL byte in the source"),
    (".code16\nnop", "'.code16': 16-bit code is not supported"),
    (".section .t\nnop", "section '.t' is not part of the image"),
    ("x: nop\nmovl -x(%ebx), %eax", "negated address"),
    (".fill 1, 4, 0x", "'0x' without digits"),
    (".ident", ".ident without a string is not supported"),
    ("nop\n.balignw 4\nret", "expected fill pattern missing in '.balignw' (GNU as only warns)"),
)


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


@pytest.mark.parametrize(("source", "message"), NAMED)
def test_refusals_name_the_construct(source, message):
    with pytest.raises(AsmError) as caught:
        assemble(source, ORIGIN)
    assert message in caught.value.message


def test_fuzzer_names_each_kind_of_refusal():
    fuzz = load_fuzz_tool()
    if HAVE_GNU_AS:
        named = AsmError("<fuzz>", 1, "", "'.code16': 16-bit code is not supported")
        assert fuzz.explain(".code16", named) == ".code16 (16-bit code)"
        warned = AsmError("<fuzz>", 2, "", "value 0x100 does not fit in 8 bits")
        assert fuzz.explain("nop\n.byte 256", warned) == "GNU as warns: value N truncated to N"
        elsewhere = AsmError("<fuzz>", 1, "", "value 0x100 does not fit in 8 bits")
        assert fuzz.explain("nop\n.byte 256", elsewhere) is None  # not the line GNU warns on
        unexplained = AsmError("<fuzz>", 1, "", "bad expression")
        assert fuzz.explain("nop", unexplained) is None


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
def test_gnu_warnings_are_located_by_source_line():
    assert gnu_warnings("nop\n.byte 256\n.endr") == {
        2: ["value 0x100 truncated to 0x0"],
        3: [".endr encountered without preceding .rept, .irp, or .irpc"],
    }
