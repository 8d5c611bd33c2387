"""One emulated i386 CPU: a register context that the machine's one Unicorn
instance runs when this CPU is loaded.

A CPU is its state, as on real SMP hardware the state is what tells one
processor from another: general registers, EFLAGS, EIP, the segment
registers with their hidden base/limit caches, and its own GDTR (each CPU's
GDT lives in its per-CPU area).  The translation cache is shared, as the
kernel text is.  While a CPU is loaded its registers are Unicorn's live
registers; otherwise they are in its saved context (a ``uc_context``), which
the C library reads and writes directly.

Registers are named as the kernel's ``__show_regs`` and gdb name them.  The
hot path calls the C library's uc_reg_read/uc_reg_write directly with one
reusable 32-bit buffer (every i386 register we touch fits; 16-bit segment
reads fill the low half, so the buffer is cleared first).  It calls them
without the binding's argument types (``_C``): every argument is already a
ctypes object or a small int, and the conversions cost as much as the call.
"""

import ctypes

from unicorn import x86_const
from unicorn.unicorn_py3.unicorn import uclib

GPRS = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp")
SEGS = ("cs", "ds", "es", "fs", "gs", "ss")
REG_NAMES = GPRS + ("eip", "eflags") + SEGS
UC_REG = {name: getattr(x86_const, "UC_X86_REG_" + name.upper()) for name in REG_NAMES}
_SEG_IDS = frozenset(UC_REG[name] for name in SEGS)
_EFLAGS = UC_REG["eflags"]

# The binding's library, its functions called bare (no argtypes): the same code,
# some 150 ns less per call.  The return codes were never checked on this path.
_C = ctypes.CDLL(uclib._name)


class RegisterBatch:
    """Several registers read or written with one C call (uc_reg_read_batch)."""

    def __init__(self, names):
        self.names = tuple(names)
        n = len(self.names)
        self.ids = (ctypes.c_int * n)(*(UC_REG[r] for r in self.names))
        self.values = (ctypes.c_uint32 * n)()
        self.ptrs = (ctypes.c_void_p * n)(
            *(ctypes.addressof(self.values) + 4 * i for i in range(n))
        )
        self.count = n


class CPU:
    """CPU ``index`` of ``machine``; powered on (given a context) on first use."""

    def __init__(self, machine, index: int):
        self.machine = machine
        self.index = index
        self.context = None  # its uc_context while not loaded (None: never powered on)
        self.gdtr = None  # (base, limit), set by the kernel's cpu_init before first use
        self.stop = None  # why the last run ended early (set by hooks)
        self.skip_thunk = None  # resuming at this thunk: its Python call already ran
        self.rehit = False  # ... and its ret was cut from it by a stop (emu/clock.py)
        self.fault_address = None
        self._buf = ctypes.c_uint32()
        self._ref = ctypes.byref(self._buf)

    @property
    def loaded(self) -> bool:
        return self.machine.loaded is self

    def read(self, name: str) -> int:
        reg = UC_REG[name]
        buf = self._buf
        if reg in _SEG_IDS:
            buf.value = 0
        m = self.machine
        if m.loaded is self:
            _C.uc_reg_read(m.uch, reg, self._ref)
        else:
            _C.uc_context_reg_read(m.context_of(self), reg, self._ref)
        return buf.value

    def write(self, name: str, value: int) -> None:
        self._buf.value = value  # wrapped to 32 bits by ctypes
        m = self.machine
        reg = UC_REG[name]
        if reg in _SEG_IDS:
            m.load_cpu(self)  # a selector loads through the GDT: only a live CPU can
        if m.loaded is self:
            _C.uc_reg_write(m.uch, reg, self._ref)
        else:
            _C.uc_context_reg_write(m.context_of(self), reg, self._ref)

    def update_eflags(self, clear: int = 0, add: int = 0) -> None:
        """EFLAGS = (EFLAGS & ~clear) | add: cli, sti, a trap clearing TF (one
        Python call for the read and the write)."""
        buf, ref, m = self._buf, self._ref, self.machine
        if m.loaded is self:
            _C.uc_reg_read(m.uch, _EFLAGS, ref)
            buf.value = (buf.value & ~clear) | add
            _C.uc_reg_write(m.uch, _EFLAGS, ref)
        else:
            context = m.context_of(self)
            _C.uc_context_reg_read(context, _EFLAGS, ref)
            buf.value = (buf.value & ~clear) | add
            _C.uc_context_reg_write(context, _EFLAGS, ref)

    def read_batch(self, batch: RegisterBatch) -> list[int]:
        # Segment registers fill only their low 16 bits: clear the slots first.
        ctypes.memset(batch.values, 0, 4 * batch.count)
        m = self.machine
        if m.loaded is self:
            _C.uc_reg_read_batch(m.uch, batch.ids, batch.ptrs, batch.count)
        else:
            _C.uc_context_reg_read_batch(m.context_of(self), batch.ids, batch.ptrs, batch.count)
        return batch.values[:]

    def write_batch(self, batch: RegisterBatch, values) -> None:
        batch.values[:] = values  # ctypes wraps each to 32 bits, as the mask would
        m = self.machine
        if m.loaded is self:
            _C.uc_reg_write_batch(m.uch, batch.ids, batch.ptrs, batch.count)
        else:
            _C.uc_context_reg_write_batch(m.context_of(self), batch.ids, batch.ptrs, batch.count)

    def regs(self, names=REG_NAMES) -> dict:
        """The registers by name (one C call)."""
        batch = ALL_REGS if names is REG_NAMES else RegisterBatch(names)
        return dict(zip(batch.names, self.read_batch(batch), strict=True))


ALL_REGS = RegisterBatch(REG_NAMES)
