"""Struct layouts that guest code depends on: pt_regs (asm/ptrace.h, 2.6.30+),
PT_* as asm-offsets_32.c derives them, the GDT selectors (asm/segment.h)."""

from emu import segment
from kernel_model.asm_offsets import asm_defines
from kernel_model.headers import thread_info
from kernel_model.ptrace import PT_OFFSETS, pt_regs


def test_pt_regs_is_17_longs_68_bytes():
    assert pt_regs.SIZE == 0x44 and len(pt_regs.FIELDS) == 17


def test_pt_offsets():
    assert PT_OFFSETS == {
        "PT_EBX": 0x00, "PT_ECX": 0x04, "PT_EDX": 0x08, "PT_ESI": 0x0C, "PT_EDI": 0x10,
        "PT_EBP": 0x14, "PT_EAX": 0x18, "PT_DS": 0x1C, "PT_ES": 0x20, "PT_FS": 0x24,
        "PT_GS": 0x28, "PT_ORIG_EAX": 0x2C, "PT_EIP": 0x30, "PT_CS": 0x34,
        "PT_EFLAGS": 0x38, "PT_OLDESP": 0x3C, "PT_OLDSS": 0x40,
    }  # fmt: skip


def test_selectors_derive_from_gdt_entries():
    assert segment.__KERNEL_CS == 0x60 and segment.__KERNEL_DS == 0x68
    assert segment.__USER_CS == 0x73 and segment.__USER_DS == 0x7B
    assert segment.__KERNEL_PERCPU == 0xD8 and segment.__KERNEL_STACK_CANARY == 0xE0


def test_asm_defines_publish_offsets_and_functions():
    d = asm_defines()
    assert d["PT_OLDSS"] == 0x40 and d["TI_flags"] == 8 and d["THREAD_SIZE"] == 8192
    assert {"do_exit", "schedule", "schedule_tail", "per_cpu__current_task"} <= set(d)


def test_thread_info_is_0x48_bytes_with_a_32_byte_restart_block():
    """include/linux/thread_info.h: restart_block is fn plus a 28-byte union."""
    assert thread_info.SIZE == 0x48
    d = asm_defines()
    assert (d["TI_restart_block"], d["TI_sysenter_return"]) == (0x1C, 0x3C)
    assert (d["TI_previous_esp"], d["TI_uaccess_err"]) == (0x40, 0x44)
