"""The i386 GDT as Linux 2.6.32 lays it out (asm/segment.h, cpu/common.c).

Config: SMP and CONFIG_CC_STACKPROTECTOR, so ``__KERNEL_PERCPU`` and
``__KERNEL_STACK_CANARY`` are real entries.  Selectors are derived from
the entry numbers, never written as bare numbers.
"""

import struct

GDT_ENTRIES = 32
GDT_SIZE = GDT_ENTRIES * 8
GDT_ENTRY_KERNEL_BASE = 12
GDT_ENTRY_KERNEL_CS = GDT_ENTRY_KERNEL_BASE + 0
GDT_ENTRY_KERNEL_DS = GDT_ENTRY_KERNEL_BASE + 1
GDT_ENTRY_DEFAULT_USER_CS = 14
GDT_ENTRY_DEFAULT_USER_DS = 15
GDT_ENTRY_PERCPU = GDT_ENTRY_KERNEL_BASE + 15
GDT_ENTRY_STACK_CANARY = GDT_ENTRY_KERNEL_BASE + 16

USER_RPL = 3
__KERNEL_CS = GDT_ENTRY_KERNEL_CS * 8
__KERNEL_DS = GDT_ENTRY_KERNEL_DS * 8
__USER_CS = GDT_ENTRY_DEFAULT_USER_CS * 8 + USER_RPL
__USER_DS = GDT_ENTRY_DEFAULT_USER_DS * 8 + USER_RPL
__KERNEL_PERCPU = GDT_ENTRY_PERCPU * 8
__KERNEL_STACK_CANARY = GDT_ENTRY_STACK_CANARY * 8

# The selectors a CPU holds while in the kernel (SAVE_ALL's choice: ds/es = __USER_DS).
KERNEL_SEGMENTS = {
    "ss": __KERNEL_DS,
    "ds": __USER_DS,
    "es": __USER_DS,
    "fs": __KERNEL_PERCPU,
    "gs": __KERNEL_STACK_CANARY,
    "cs": __KERNEL_CS,
}

# struct stack_canary { char __pad[20]; unsigned long canary; }: "%gs:20".
STACK_CANARY_OFFSET = 20
GDT_STACK_CANARY_LIMIT = 0x18


def gdt_entry_init(flags: int, base: int, limit: int) -> bytes:
    """GDT_ENTRY_INIT(flags, base, limit): one 8-byte descriptor."""
    lo = (limit & 0xFFFF) | ((base & 0xFFFF) << 16)
    hi = ((base >> 16) & 0xFF) | ((flags & 0xF0FF) << 8) | (limit & 0xF0000) | (base & 0xFF000000)
    return struct.pack("<II", lo, hi)


def linux_gdt(percpu_offset: int, canary_base: int) -> bytes:
    """The gdt_page of one CPU: flat kernel/user segments, per-CPU fs, canary gs."""
    table = [bytes(8)] * GDT_ENTRIES
    table[GDT_ENTRY_KERNEL_CS] = gdt_entry_init(0xC09A, 0, 0xFFFFF)
    table[GDT_ENTRY_KERNEL_DS] = gdt_entry_init(0xC092, 0, 0xFFFFF)
    table[GDT_ENTRY_DEFAULT_USER_CS] = gdt_entry_init(0xC0FA, 0, 0xFFFFF)
    table[GDT_ENTRY_DEFAULT_USER_DS] = gdt_entry_init(0xC0F2, 0, 0xFFFFF)
    # setup_percpu_segment(): base = __per_cpu_offset[cpu].
    table[GDT_ENTRY_PERCPU] = gdt_entry_init(0xC092, percpu_offset, 0xFFFFF)
    # setup_stack_canary_segment(): base = &per_cpu(stack_canary, cpu), 24 bytes.
    table[GDT_ENTRY_STACK_CANARY] = gdt_entry_init(0x4090, canary_base, GDT_STACK_CANARY_LIMIT)
    return b"".join(table)
