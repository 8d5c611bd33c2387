"""Source errors: every one is an AsmError naming file:line with the offending line's text.

Multi-line sources check that the line number is the right one, including after
multi-line comments and inside macro expansions (reported at the invocation).
"""

from __future__ import annotations

import pytest

from asm.assembler import AsmError, assemble, assemble_file


def error_of(source: str, **kwargs) -> AsmError:
    with pytest.raises(AsmError) as caught:
        assemble(source, filename="test.S", **kwargs)
    return caught.value


def test_error_fields_and_message_format():
    err = error_of("nop\n  movl $1 +, %eax   # broken\nret\n")
    assert (err.filename, err.line) == ("test.S", 2)
    assert err.text == "movl $1 +, %eax   # broken"
    assert err.message
    assert str(err) == f"test.S:2: {err.message}\n    movl $1 +, %eax   # broken"


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("nop\nnop\nmovl $foo, %eax\n", 3, "undefined symbol 'foo'"),
        ("call missing_fn\n", 1, "undefined symbol 'missing_fn'"),
        ("nop\njmp 1f\nnop\n", 2, "local label '1f' is not defined"),
        ("jmp 1b\n1: nop\n", 1, "undefined symbol '1b'"),
        ("nop\n.foo 1\n", 2, "unsupported directive '.foo'"),
        ("nop\n\n.section .debug_foo\n", 3, "section '.debug_foo' is not part of the image"),
        (".popsection\n", 1, ".popsection without corresponding .pushsection"),
        (".bss\nnop\n", 2, "non-zero bytes in .bss"),
        (".type f, @bogus\n", 1, "unrecognized symbol type 'bogus'"),
        (".cfi_startproc\nnop\n", 2, "missing .cfi_endproc"),
        (".loc 1 2\n", 1, "unassigned file number 1"),
        ("nop\nnop\n.org 1\n", 3, "attempt to move .org backwards"),
        ("nop\n.if 1\nnop\n", 3, "'.if' without '.endif'"),
        (".else\n", 1, "'.else' without '.if'"),
        (".purgem nothing\n", 1, ".purgem of undefined macro 'nothing'"),
        ("a: nop\na: nop\n", 2, "symbol 'a' is already defined"),
        (".equiv x, 1\nx: nop\n", 2, "symbol 'x' is already defined"),
        ("movl $1/0, %eax\n", 1, "division by zero"),
        ("movl $label & 0xfff, %eax\nlabel: nop\n", 1, "invalid operands"),
        ("movb $0x1234, %al\n", 1, "does not fit in 8 bits"),
        ("movw $0x12345, %ax\n", 1, "does not fit in 16 bits"),
        ("int $0x1ffffffff\n", 1, "does not fit in 8 bits"),
        ("nop\n.byte 256\n", 2, "does not fit in 8 bits"),
        (".word 0x10000\n", 1, "does not fit in 16 bits"),
        ("nop\nmovl %eax, %ebx, %ecx\n", 2, "invalid instruction or operands"),
        ("addl %eax\n", 1, "Invalid operand (KS_ERR_ASM_INVALIDOPERAND)"),
        ("movl (%eax), (%ebx)\n", 1, "invalid instruction or operands"),
        ("frobnicate %eax\n", 1, "Invalid mnemonic (KS_ERR_ASM_MNEMONICFAIL)"),
        ("movl %foo, %eax\n", 1, "bad register name '%foo'"),
        ("movl (%eax,%ebx,3), %ecx\n", 1, "scale factor"),
        ("movl %fs:%eax, %ebx\n", 1, "segment override"),
        ("lock movl %eax, %ebx\n", 1, "expecting lockable instruction"),
        ("rep addl %eax, %ebx\n", 1, "after 'rep'"),
        ("cltq\n", 1, "64-bit mode"),
        ("movl $08, %eax\n", 1, "bad octal number"),
        ("movl $99999999999999999999, %eax\n", 1, "does not fit in 64 bits"),
        (".p2align 3\n.balign 3\n", 2, "not a power of 2"),
        (".skip lbl\nlbl: nop\n", 1, "absolute expression"),
        (".ascii abc\n", 1, "expects quoted strings"),
        ("jecxz 1f\n.skip 200\n1: nop\n", 1, "out of rel8 reach"),
        ("movl 4(%esp), %fs\n", 1, "operand type mismatch"),
        ("movsb %fs:(%esi), %gs:(%edi)\n", 1, "must use '%es' segment"),
        ("movl $start, %cr0\nstart: nop\n", 1, "'movl $start, %cr0'"),
        ("ljmpw $8, $0x12345\n", 1, "16-bit jump out of range: 'ljmpw' to 0x12345"),
        ("1: movl $5-1b, %eax\n.long -(5-1b)\n", 2, "invalid operands (*ABS* and .text sections)"),
    ],
)
def test_error_is_located(source, line, message):
    err = error_of(source)
    assert err.line == line, err
    assert message in err.message, err
    assert err.text == source.splitlines()[line - 1].strip()


def test_relocated_value_too_wide_for_its_field():
    err = error_of("nop\nmovw $here, %ax\nhere: nop\n", origin=0xC0100000)
    assert err.line == 2 and "does not fit in 16 bits" in err.message


def test_line_numbers_survive_multiline_comments():
    source = "nop /* one\ntwo\nthree */ nop\n/*\n*/\nbogus_op\n"
    assert error_of(source).line == 6


def test_line_numbers_with_semicolons_name_the_physical_line():
    err = error_of("nop; nop\nnop; movl $undefined_x, %eax; nop\n")
    assert err.line == 2
    assert err.text == "nop; movl $undefined_x, %eax; nop"


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("nop\n.macro m a\nmovl $\\a, %eax\n", 2, "'.macro' without '.endm'"),
        ("nop\n.endm\n", 2, "'.endm' without"),
        (".macro m a\n.endm\n.macro m b\n.endm\n", 3, "already defined"),
        (".macro m a\nnop\n.endm\nm 1, 2\n", 4, "too many arguments"),
        (".macro m a:req\n.long \\a\n.endm\nnop\nm\n", 5, "required parameter 'a'"),
        (".macro m a\nmovl $\\a, %eax\n.endm\nnop\nm undefined_y\n", 5, "undefined symbol"),
        (".macro 1bad\n.endm\n", 1, "bad macro name"),
        (".macro m\nm\n.endm\nm\n", 4, "nested more than"),
        ("nop\n.rept 2\nnop\n", 2, "'.rept' without '.endr'"),
        (".rept count_z\nnop\n.endr\n", 1, "absolute expression"),
        (".exitm\n", 1, "outside a macro"),
        (".rept 30000\nnop\nnop\n.endr\n", 1, "statements after expansion"),
        (".rept 1 << 40\n.endr\n", 1, "is more than"),
        (".rept 1\n" * 101 + "nop\n" + ".endr\n" * 101, 101, "nested more than"),
    ],
)
def test_macro_errors_are_located(source, line, message):
    err = error_of(source)
    assert err.line == line, err
    assert message in err.message, err


def test_assemble_file_names_the_path_as_given(tmp_path, monkeypatch):
    (tmp_path / "bad.S").write_text("nop\n\n  jmp nowhere\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AsmError) as caught:
        assemble_file("bad.S")
    assert caught.value.filename == "bad.S"
    assert str(caught.value).startswith("bad.S:3: undefined symbol 'nowhere'\n    jmp nowhere")


def test_bad_origin_and_defines_are_caller_errors():
    with pytest.raises(ValueError):
        assemble("nop", origin=-1)
    with pytest.raises(ValueError):
        assemble("nop", origin=1 << 32)
    with pytest.raises(ValueError):
        assemble("nop", defines={"x": "0x10"})
