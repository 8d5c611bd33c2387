"""PIC code in the flat image (asm/_pic.py), byte for byte as GNU as + ld make it.

Each source is assembled alone by GNU as and linked as a user would link it
(ld's default script, whose `.got` and `.got.plt` come before `.data`); our image
must hold the same bytes. What ld would turn into other code than was meant, or
lay out by its own hash table, is refused with a message naming the construct.
"""

from __future__ import annotations

import pytest
from asm_gnu_ref import HAVE_GNU_AS, GnuAsError, gnu_image

from asm.assembler import AsmError, assemble

ORIGIN = 0xC0100000
TAIL = "\ng: ret\n.data\nh: .long 5\n.bss\n.zero 3\n"

SAME_AS_GNU = [
    # ld's rewrites of the GOT32X instructions (elf_i386_convert_load_reloc)
    "f: call *g@GOT(%ebx)",
    "f: jmp *g@GOT(%ecx)",
    "f: test %eax, g@GOT(%ebx)",
    "f: testl g@GOT(%ebx), %esi",
    "f: cmpl g@GOT(%ebx), %esi",
    "f: xorl g@GOT(%ebx), %edi",
    "f: addl h@GOT(%edx), %eax",
    "f: movl g@GOT(%ebp), %eax",
    "f: movl %fs:h@GOT(%ebx), %ecx",
    "f: movl %ds:h@GOT(%ebx), %ecx",
    # GOT slots: forms ld does not rewrite
    "f: leal g@GOT(%ebx), %eax",
    "f: movw h@GOT(%ebx), %ax",
    "f: addl g@GOT+4(%ebx), %eax",
    "f: addb h@GOT(%ebx), %al",
    "f: pushl h@GOT(%ebx)\n movl h@GOT(%ebx), %eax\n pushl h@GOT(%ebx)",
    # @GOTOFF alone: no table, the symbol is where .got.plt would start
    "f: movl h@GOTOFF(%ebx), %eax\n movl g@GOTOFF+4(%ebx), %eax",
    "f: movl 4+g@GOTOFF(%ebx), %eax\n.data\n.byte 1,2",
    # R_386_GOTPC: immediates and .long
    "f: addl $_GLOBAL_OFFSET_TABLE_, %ebx\n movl $_GLOBAL_OFFSET_TABLE_+8, %eax",
    "f: ret\n.data\n.byte 1\n.long _GLOBAL_OFFSET_TABLE_, _GLOBAL_OFFSET_TABLE_-4, h@GOTOFF",
    # @PLT is the function itself, relaxed like any branch
    "f: call g@PLT\n jmp g@PLT\n call g@PLT+4",
    # gcc's pattern
    '.section .text.__x86.get_pc_thunk.bx,"axG",@progbits,__x86.get_pc_thunk.bx,comdat\n'
    ".globl __x86.get_pc_thunk.bx\n.hidden __x86.get_pc_thunk.bx\n"
    "__x86.get_pc_thunk.bx: movl (%esp), %ebx\n ret\n.text\n"
    "f: call __x86.get_pc_thunk.bx\n addl $_GLOBAL_OFFSET_TABLE_, %ebx\n"
    " movl h@GOT(%ebx), %eax\n jmp *.L3@GOTOFF(%ebx,%eax,4)\n"
    ".section .rodata\n.L3: .long g@GOTOFF, f@GOTOFF\n.text",
]

REFUSED = [
    ("f: movl g@GOT(%ebx,%ecx,2), %eax", "'g@GOT' needs a 32-bit base register"),
    ("f: movl g@GOT(%esp), %eax", "'g@GOT' needs a 32-bit base register"),
    ("f: movl g@GOT, %eax", "'g@GOT' needs a 32-bit base register"),
    ("f: movl $g@GOT, %eax", "'g@GOT' is only supported as a memory operand"),
    (".long g@GOT", "'g@GOT' is only supported as a memory operand"),
    (".set x, 5\nf: call *x@GOT(%ebx)", "'x@GOT' of an absolute symbol"),
    ("f: pushl .Lq@GOT(%ebx)\n pushl a@GOT(%ebx)\na: .Lq: nop", "GOT slots for several"),
    ("f: movl _GLOBAL_OFFSET_TABLE_(%ebx), %eax", "'_GLOBAL_OFFSET_TABLE_' in an address"),
    (".word _GLOBAL_OFFSET_TABLE_", "'_GLOBAL_OFFSET_TABLE_' in '.word'"),
    ("f: movl $_GLOBAL_OFFSET_TABLE_*2, %eax", "'_GLOBAL_OFFSET_TABLE_' can only be used"),
    ("f: movl %gs:x@ntpoff, %eax", "TLS relocation 'x@ntpoff'"),
    ("f: leal x@tlsgd(,%ebx,1), %eax", "TLS relocation 'x@tlsgd'"),
    (".section .got\n.long 0", "section '.got' is made by the linker"),
]


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
@pytest.mark.parametrize("body", SAME_AS_GNU)
def test_pic_forms_give_gnu_bytes(body):
    source = body + TAIL
    try:
        gnu = gnu_image(source, ORIGIN)
    except GnuAsError as err:  # the case itself is wrong, not the assembler
        pytest.fail(f"GNU refuses the case: {err}")
    assert assemble(source, ORIGIN).code == gnu


@pytest.mark.parametrize(("body", "message"), REFUSED)
def test_pic_forms_ld_would_garble_are_refused_by_name(body, message):
    with pytest.raises(AsmError) as caught:
        assemble(body + TAIL, ORIGIN)
    assert message in caught.value.message


def test_got_symbol_is_the_table_before_the_data():
    image = assemble("f: addl $_GLOBAL_OFFSET_TABLE_, %ebx\n pushl h@GOT(%ebx)" + TAIL, ORIGIN)
    got = image.symbols["_GLOBAL_OFFSET_TABLE_"]
    assert got % 4 == 0 and image.symbols["g"] < got < image.symbols["h"]
    slot = got - 4
    offset = slot - image.origin
    assert image.code[offset : offset + 4] == image.symbols["h"].to_bytes(4, "little")
    assert image.code[got - image.origin : got - image.origin + 12] == bytes(12)
