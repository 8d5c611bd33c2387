"""struct pt_regs for i386, 2.6.30-2.6.32 (asm/ptrace.h), and the PT_* offsets
that asm-offsets_32.c derives from it.

Layout (17 longs, 68 bytes; the gs slot exists since 2.6.30's stack
protector)::

    0x00 bx  0x04 cx  0x08 dx  0x0c si  0x10 di  0x14 bp  0x18 ax
    0x1c ds  0x20 es  0x24 fs  0x28 gs  0x2c orig_ax
    0x30 ip  0x34 cs  0x38 flags  0x3c sp  0x40 ss

ip, cs and flags are what the CPU pushes on an interrupt; sp and ss only
on a privilege change, so for a kernel frame they are never popped.
"""

from emu.structs import define_struct

PT_REGS_FIELDS = (
    "bx", "cx", "dx", "si", "di", "bp", "ax",
    "ds", "es", "fs", "gs", "orig_ax",
    "ip", "cs", "flags", "sp", "ss",
)  # fmt: skip

pt_regs = define_struct("pt_regs", [(name, "u32", "unsigned long") for name in PT_REGS_FIELDS])

# asm-offsets_32.c names: OFFSET(PT_EBX, pt_regs, bx) ... OFFSET(PT_OLDSS, pt_regs, ss).
_ASM_NAMES = {
    "bx": "PT_EBX", "cx": "PT_ECX", "dx": "PT_EDX", "si": "PT_ESI", "di": "PT_EDI",
    "bp": "PT_EBP", "ax": "PT_EAX", "ds": "PT_DS", "es": "PT_ES", "fs": "PT_FS",
    "gs": "PT_GS", "orig_ax": "PT_ORIG_EAX", "ip": "PT_EIP", "cs": "PT_CS",
    "flags": "PT_EFLAGS", "sp": "PT_OLDESP", "ss": "PT_OLDSS",
}  # fmt: skip
PT_OFFSETS = {_ASM_NAMES[name]: off for name, off in pt_regs.OFFSETS.items()}
