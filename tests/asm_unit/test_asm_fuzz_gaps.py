"""The refusals `make fuzz` counts that stay, each by name, and how the fuzzer
explains a refusal.  The sources GNU as accepts that we refused until `make fuzz`
counted them are pinned with the other GNU as forms in test_asm_gnu_forms.py.
"""

from __future__ import annotations

import pytest
from asm_gnu_ref import HAVE_GNU_AS, gnu_warnings
from test_asm_fuzz import load_fuzz_tool

from asm.assembler import AsmError, assemble

ORIGIN = 0x1000


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
