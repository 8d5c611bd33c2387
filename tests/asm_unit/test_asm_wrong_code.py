"""Two cases that once gave wrong bytes with exit status 0 (issue 12).

The expected bytes were taken from GNU as 2.40 (`as --32`); where GNU as is
installed the same sources are also checked against it directly.
"""

from __future__ import annotations

import pytest
from asm_gnu_ref import HAVE_GNU_AS, GnuAsError, gnu_assemble

from asm.assembler import AsmError, assemble

ESP_INDEX = (
    "(%ebx,%esp)",
    "(%eax,%esp,2)",
    "0x10(,%esp,1)",
    "(,%esp,4)",
    "(%esp,%esp,1)",
    "4(%ebp,%esp,8)",
    "8(%ecx,%esp,1)",
)

# (string body as written in the source, the bytes GNU as gives)
STRINGS = (
    (r"\777\x\q", "ff0071"),
    (r"\x41\x4142\0\08\1234", "41420008" + "5334"),
    (r"\a\e\"\\\N", "6165225c4e"),
    (r"\v\b\f\n\r\t", "0b080c0a0d09"),
    (r"\9\99\999\400\x\xg\X41\xfff\0000", "095191000000674" + "1ff0030"),
)

CHARS = (("'\\n", "0a"), ("'a", "61"), ("'\\\\", "5c"), ("'\\q", "71"), ("'\\v", "76"))


@pytest.mark.parametrize("memory", ESP_INDEX)
def test_esp_as_index_is_refused(memory):
    with pytest.raises(AsmError) as caught:
        assemble(f"movl {memory}, %eax\n")
    assert caught.value.message == f"'{memory}' is not a valid base/index expression"


def test_esp_as_base_is_still_fine():
    assert assemble("movl (%esp,%ebx), %eax\n").code.hex() == "8b041c"


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
@pytest.mark.parametrize("memory", ESP_INDEX)
def test_gnu_as_refuses_esp_as_index_too(memory):
    with pytest.raises(GnuAsError, match="not a valid base/index expression"):
        gnu_assemble(f"movl {memory}, %eax\n")


@pytest.mark.parametrize(("body", "expected"), STRINGS)
def test_string_escapes_read_as_gnu_as(body, expected):
    assert assemble(f'.ascii "{body}"\n').code.hex() == expected
    assert assemble(f'.asciz "{body}"\n').code.hex() == expected + "00"


@pytest.mark.parametrize(("text", "expected"), CHARS)
def test_character_constants_read_as_gnu_as(text, expected):
    assert assemble(f".byte {text}\n").code.hex() == expected


# GNU as's input scrubber writes a character constant as its decimal value before
# the line is read, so digits after it extend that number: `'\x41` is 120 then 41.
GLUED = (("'\\x41", "092f0000"), ("'\\101", "25130000"), ("'a1", "cb030000"), ("1'a", "c5000000"))


@pytest.mark.parametrize(("text", "expected"), GLUED)
def test_character_constant_glued_to_digits_reads_as_gnu_as(text, expected):
    assert assemble(f".long {text}\n").code.hex() == expected


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
def test_escape_expectations_are_gnu_as_bytes():
    source = "".join(f'.ascii "{body}"\n' for body, _ in STRINGS)
    source += "".join(f".byte {text}\n" for text, _ in CHARS)
    source += "".join(f".long {text}\n" for text, _ in GLUED)
    expected = "".join(e for _, e in STRINGS) + "".join(e for _, e in CHARS)
    expected += "".join(e for _, e in GLUED)
    assert gnu_assemble(source).hex() == expected
