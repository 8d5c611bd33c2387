"""Keystone 0.9.2 bugs that asm.assembler works around, pinned on raw Keystone.

If a new Keystone fixes (or changes) one of these, its canary fails: the
workaround in asm/ is then either dead code or wrong, and must be revisited.
Each canary is paired with a check that our wrapper gives GNU as's answer.
`.text` is the exception: raw Keystone segfaults on it, so only the screening
is tested.
"""

from __future__ import annotations

import os
import struct

import pytest
from keystone import KS_ARCH_X86, KS_MODE_32, KS_OPT_SYNTAX_ATT, Ks, KsError

from asm import _encode
from asm.assembler import AsmError, assemble


def raw_keystone() -> Ks:
    engine = Ks(KS_ARCH_X86, KS_MODE_32)
    engine.syntax = KS_OPT_SYNTAX_ATT
    return engine


def raw(text: str, address: int = 0) -> bytes:
    encoding, _ = raw_keystone().asm(text, address, True)
    return encoding or b""


def test_canary_decimal_read_as_hex():
    assert raw("movl $42, %eax") == bytes.fromhex("b842000000")
    assert assemble("movl $42, %eax").code == bytes.fromhex("b82a000000")


def test_canary_decimal_displacement_read_as_hex():
    assert raw("movl 12(%esp), %eax") == bytes.fromhex("8b442412")
    assert assemble("movl 12(%esp), %eax").code == bytes.fromhex("8b44240c")


def test_canary_sym_resolver_relative_branch_is_4_bytes_off():
    engine = raw_keystone()

    def resolve(symbol, value):
        if symbol == b"foo":
            value[0] = 0xC0100100
            return True
        return False

    engine.sym_resolver = resolve
    code, _ = engine.asm("call foo", 0xC0100000, True)
    target = 0xC0100000 + 5 + struct.unpack_from("<i", code, 1)[0]
    assert target == 0xC0100104
    ours = assemble("call foo", 0xC0100000, defines={"foo": 0xC0100100}).code
    assert 0xC0100000 + 5 + struct.unpack_from("<i", ours, 1)[0] == 0xC0100100


def test_canary_overwide_immediate_truncated():
    assert raw("movb $0x1234, %al") == bytes.fromhex("b034")
    with pytest.raises(AsmError, match="does not fit in 8 bits"):
        assemble("movb $0x1234, %al")


def test_canary_overwide_int_vector_gives_no_bytes():
    assert raw("int $0x1234") == b""
    with pytest.raises(AsmError, match="does not fit in 8 bits"):
        assemble("int $0x1234")


def test_canary_multibyte_nop_uses_prefetch_opcode():
    assert raw("nopl (%eax)") == bytes.fromhex("0f1820")
    assert assemble("nopl (%eax)").code == bytes.fromhex("0f1f00")


def test_canary_64bit_only_mnemonic_accepted_in_32bit_mode():
    assert raw("cltq") == bytes.fromhex("98")
    with pytest.raises(AsmError, match="64-bit mode"):
        assemble("cltq")


def test_canary_prefix_order_differs_from_gnu_as():
    assert raw("lock incw %fs:(%eax)") == bytes.fromhex("f06466ff00")
    assert assemble("lock incw %fs:(%eax)").code == bytes.fromhex("6466f0ff00")


def test_canary_movw_to_segment_register_keeps_operand_size_prefix():
    assert raw("movw %dx, %ds") == bytes.fromhex("668eda")
    assert assemble("movw %dx, %ds").code == bytes.fromhex("8eda")


def test_canary_int3_spelled_int_3():
    assert raw("int $3") == bytes.fromhex("cd03")
    assert assemble("int $3").code == bytes.fromhex("cc")


def test_canary_suffixless_memory_operand_rejected():
    with pytest.raises(KsError, match="KS_ERR_ASM_INVALIDOPERAND"):
        raw("inc (%eax)")
    assert assemble("inc (%eax)").code == bytes.fromhex("ff00")


@pytest.mark.parametrize(
    "directive", [".text", "  .text  ", "  ; .text", ".text # comment", "/* c */ .text"]
)
def test_text_is_screened_from_keystone(directive):
    assert assemble(directive + "\nnop").code == b"\x90"


@pytest.mark.parametrize(
    ("source", "code"),
    [(".data\nnop", "90"), (".section .text\nnop", "90"), (".text 1\nret\n.text\nnop", "90c3"),
     (".bss\n.skip 2", "00000000")],
)  # fmt: skip
def test_section_directives_are_handled_by_us_not_keystone(source, code):
    assert assemble(source).code.hex() == code


@pytest.mark.parametrize(
    ("source", "message"),
    [(".nops 4", "unsupported directive"), (".code16", "16-bit code is not supported")],
)
def test_unsupported_directives_are_errors_not_crashes(source, message):
    with pytest.raises(AsmError, match=message):
        assemble(source)


def test_keystone_never_sees_a_directive_or_a_symbol(monkeypatch):
    seen = []
    engine = raw_keystone()

    class Spy:
        def asm(self, text, address, as_bytes):
            seen.append(text)
            return engine.asm(text, address, as_bytes)

    monkeypatch.setattr(_encode, "_keystone", Spy)
    _encode._keystone_bytes.cache_clear()
    _encode.template.cache_clear()
    source = (
        ".text\n.globl f\n.type f, @function\nf: movl $do_exit, %eax\n"
        "call *sym(,%eax,4)\n.set x, 10\naddl $x, 12(%esp)\n.long f\n.p2align 4\n"
    )
    assemble(source, 0xC0100000, "spy.S", {"do_exit": 0xC0200040, "sym": 0x1000})
    _encode._keystone_bytes.cache_clear()
    _encode.template.cache_clear()
    assert seen, "Keystone was not called at all"
    for text in seen:
        assert not text.lstrip().startswith("."), text
        assert "do_exit" not in text and "sym" not in text and "f" != text.split()[-1], text


def test_a_keystone_warning_is_an_error_not_a_risk(monkeypatch):
    """After printing a warning Keystone 0.9.2 may crash the process later, so an
    encoding it warned about is refused (faked here: a real one could crash the run)."""

    class WarningKeystone:
        def asm(self, text, address, as_bytes):
            os.write(2, b"warning: memory operand is only for determining the size\n")
            return b"\xd7", 1

    monkeypatch.setattr(_encode, "_keystone", WarningKeystone)
    _encode._keystone_bytes.cache_clear()
    try:
        encoding, error = _encode._keystone_bytes("xlat")
    finally:
        _encode._keystone_bytes.cache_clear()
    assert encoding == b"" and error.startswith("Keystone warned: warning: memory operand")


def test_a_warning_is_not_seen_again_by_the_next_call(monkeypatch):
    """The scratch file catching Keystone's stderr is shared by all calls: each starts empty."""

    class Keystone:
        def asm(self, text, address, as_bytes):
            if text == "xlat":
                os.write(2, b"warning: memory operand is only for determining the size\n")
            return b"\x90", 1

    monkeypatch.setattr(_encode, "_keystone", Keystone)
    _encode._keystone_bytes.cache_clear()
    try:
        warned = _encode._keystone_bytes("xlat")
        clean = _encode._keystone_bytes("nop")
    finally:
        _encode._keystone_bytes.cache_clear()
    assert warned[1].startswith("Keystone warned")
    assert clean == (b"\x90", "")


def test_string_instructions_with_operands_never_reach_keystone_as_such():
    assert assemble("xlat %gs:(%ebx)").code == bytes.fromhex("65d7")
    assert assemble("lodsb %fs:(%esi), %al").code == bytes.fromhex("64ac")
