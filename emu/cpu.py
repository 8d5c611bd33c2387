"""One emulated i386 CPU: a Unicorn instance in 32-bit protected mode.

Registers are named as the kernel's ``__show_regs`` and gdb name them.
Reading a register through the Python binding costs a few microseconds,
most of it the binding choosing a ctypes type; the hot path calls the C
library's uc_reg_read/uc_reg_write directly with one reusable 32-bit
buffer (every i386 register we touch fits; 16-bit segment reads fill
the low half, so the buffer is cleared first).
"""

import ctypes
from dataclasses import dataclass, field

from unicorn import (
    UC_ARCH_X86,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_UNMAPPED,
    UC_MODE_32,
    UC_PROT_ALL,
    Uc,
    x86_const,
)
from unicorn.unicorn_py3.unicorn import uclib

from emu.memory import PAGE_OFFSET
from emu.segment import __KERNEL_CS, __KERNEL_DS, __KERNEL_PERCPU, __KERNEL_STACK_CANARY, __USER_DS

TCG_BUFFER = 4 << 20
GPRS = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp")
SEGS = ("cs", "ds", "es", "fs", "gs", "ss")
REG_NAMES = GPRS + ("eip", "eflags") + SEGS
UC_REG = {name: getattr(x86_const, "UC_X86_REG_" + name.upper()) for name in REG_NAMES}

# The selectors a CPU holds while in the kernel (SAVE_ALL's choice: ds/es = __USER_DS).
KERNEL_SEGMENTS = {
    "ss": __KERNEL_DS,
    "ds": __USER_DS,
    "es": __USER_DS,
    "fs": __KERNEL_PERCPU,
    "gs": __KERNEL_STACK_CANARY,
    "cs": __KERNEL_CS,
}


@dataclass
class Regs:
    """A snapshot of the registers, by name."""

    values: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.values[name]


class CPU:
    """CPU ``index``: its Unicorn instance is created on first use."""

    def __init__(self, machine, index: int):
        self.machine = machine
        self.index = index
        self._uc = None
        self.gdtr = None  # (base, limit), loaded by the kernel's cpu_init before first use
        self.stop = None  # why the last run ended early (set by hooks)
        self.skip_thunk = None  # resuming at this thunk: its Python call already ran
        self.fault_address = None
        self._buf = ctypes.c_uint32()
        self._ref = ctypes.byref(self._buf)

    @property
    def uc(self) -> Uc:
        if self._uc is None:
            self._uc = self._power_on()
        return self._uc

    def _power_on(self) -> Uc:
        m = self.machine
        uc = Uc(UC_ARCH_X86, UC_MODE_32)
        uc.ctl_set_tcg_buffer_size(TCG_BUFFER)  # the kernel text is small; 256 CPUs add up
        uc.mem_map_ptr(PAGE_OFFSET, m.map.ram_size, UC_PROT_ALL, m.mem.host_address)
        if self.gdtr is None:
            raise RuntimeError(f"CPU {self.index} has no GDT loaded")
        uc.reg_write(x86_const.UC_X86_REG_GDTR, (0, *self.gdtr, 0))
        for name, selector in KERNEL_SEGMENTS.items():
            uc.reg_write(UC_REG[name], selector)
        thunks_end = m.map.thunks + m.map.thunks_size - 1
        uc.hook_add(UC_HOOK_CODE, m.on_thunk, self, m.map.thunks, thunks_end)
        uc.hook_add(UC_HOOK_MEM_UNMAPPED, m.on_unmapped, self)
        uc.hook_add(UC_HOOK_INTR, m.on_interrupt, self)
        return uc

    def save(self):
        """This CPU's whole register state (None if it never powered on)."""
        return None if self._uc is None else self._uc.context_save()

    def restore(self, context) -> None:
        if context is None:
            self._uc = None  # never ran at save time: power on afresh when needed
        else:
            self.uc.context_restore(context)
        self.stop = self.skip_thunk = self.fault_address = None

    def forget_code(self, start: int, end: int) -> None:
        """Drop translations of [start, end): host-side writes are invisible to Unicorn."""
        if self._uc is not None:
            self._uc.ctl_remove_cache(start, end)

    def read(self, name: str) -> int:
        buf = self._buf
        buf.value = 0
        uclib.uc_reg_read(self.uc._uch, UC_REG[name], self._ref)
        return buf.value

    def write(self, name: str, value: int) -> None:
        self._buf.value = value & 0xFFFFFFFF
        uclib.uc_reg_write(self.uc._uch, UC_REG[name], self._ref)

    def regs(self, names=REG_NAMES) -> Regs:
        return Regs({n: self.read(n) for n in names})
