"""The machine: CPUs sharing one RAM and one Unicorn instance, the loaded
images, the symbol table.

One Unicorn instance drives every CPU.  A CPU is its register context
(emu/cpu.py); running CPU n means loading its context into Unicorn
(``uc_context_restore``, in C) after saving the one that ran before.  The
translation cache is shared, as the kernel text is shared; each CPU's GDTR
and segment caches travel with its context, so ``%fs`` and ``%gs`` reach
that CPU's own per-CPU area.  Hooks are installed once and learn which CPU
is running from ``Machine.loaded``.

The machine runs guest code and reports why it stopped; it knows nothing
about tasks.  Python-implemented functions get a one-byte ``ret`` thunk
each: a guest ``call`` lands on the thunk, a code hook hands the call to
``pycall`` (installed by the kernel model), and the ``ret`` then returns
to the caller with whatever the Python side left in %eax.  A guest function
called from Python returns to ``py_ret``, whose hook hands control back to
``pyreturn``; both may redirect the CPU (write EIP) without leaving the
emulator, so a whole chain of calls between Python and guest code costs one
``emu_start``.

The machine keeps the clock (emu/clock.py): every CPU's exact instruction
count, and the deadlines at which a run is cut to run something at an
instruction boundary.
"""

import bisect
import ctypes

from unicorn import (
    UC_ARCH_X86,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_UNMAPPED,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_READ_UNMAPPED,
    UC_MEM_WRITE_UNMAPPED,
    UC_MODE_32,
    UC_PROT_ALL,
    Uc,
    UcError,
    x86_const,
)
from unicorn.unicorn_const import UC_ERR_INSN_INVALID
from unicorn.unicorn_py3.unicorn import HOOK_CODE_CFUNC, uc_hook_h, uclib

from emu.clock import Clock
from emu.cpu import CPU, UC_REG
from emu.events import BudgetExhausted, Fault, PythonCall, PythonReturn, StopReason
from emu.memory import PAGE_OFFSET, Memory, MemoryMap
from emu.privileged import PrivilegedCode
from emu.segment import KERNEL_SEGMENTS
from emu.symbols import SymbolTable

MAX_CPUS = 256
RET, HLT = 0xC3, 0xF4
TCG_BUFFER = 32 << 20  # one translation cache for every CPU
_ACCESS = {
    UC_MEM_READ_UNMAPPED: "read",
    UC_MEM_WRITE_UNMAPPED: "write",
    UC_MEM_FETCH_UNMAPPED: "fetch",
}


class MachineError(Exception):
    """Bad machine configuration (reported as one line, never a traceback)."""


class Machine:
    def __init__(self, ncpus: int = 1, memory_map: MemoryMap | None = None):
        if not 1 <= ncpus <= MAX_CPUS:
            raise MachineError(f"--cpus must be between 1 and {MAX_CPUS}, not {ncpus}")
        self.map = memory_map or MemoryMap()
        self.mem = Memory(self.map)
        self.symbols = SymbolTable()
        # Per loaded image: (origin, end, file, line starts, lines, the Image).
        self.sources: tuple = ()
        self.cpus = [CPU(self, i) for i in range(ncpus)]
        self.python_functions: dict[int, str] = {}
        self.pycall = None  # pycall(cpu, addr) -> True to stop the CPU
        self.pyreturn = None  # pyreturn(cpu) -> True to stop the CPU (at py_ret)
        self.trap = None  # trap(cpu, vector) -> True if handled without stopping
        self.call_observers = []  # observer(cpu, addr): a Python function is about to run
        self.loaded: CPU | None = None
        self.mem.write(self.map.py_ret, bytes([HLT]))
        self.symbols.add("py_ret", self.map.py_ret, 1, "python")
        self._power_on()
        self.clock = Clock(self)
        self.privileged = PrivilegedCode(self)

    # -- the one Unicorn instance ------------------------------------------

    def _power_on(self) -> None:
        uc = Uc(UC_ARCH_X86, UC_MODE_32)
        uc.ctl_set_tcg_buffer_size(TCG_BUFFER)
        uc.mem_map_ptr(PAGE_OFFSET, self.map.ram_size, UC_PROT_ALL, self.mem.host_address)
        # Runs end at a stop (hook, hlt, fault, count), never at an address:
        # an ``until`` would also drop the translation holding until-1 each time.
        # No exit address at all: with one (0 was), a jump there ended the run
        # silently, and a call through NULL spun as a soft lockup, not an oops.
        uc.ctl_exits_enabled(True)
        uc.ctl_set_exits([])
        self.uc, self.uch = uc, uc._uch
        thunks_end = self.map.thunks + self.map.thunks_size - 1
        self._thunk_hook = self.hook_c(self._on_thunk_c, self.map.thunks, thunks_end)
        uc.hook_add(UC_HOOK_MEM_UNMAPPED, self._on_unmapped)
        uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        self._reset = uc.context_save()  # the state every CPU powers on in
        self._size = self._reset.size

    def hook_c(self, callback, begin: int = 1, end: int = 0, kind: int = UC_HOOK_CODE):
        """A code (or block) hook given to the C library directly, for the hot paths:
        the binding's wrapper would add two Python calls to every hit.
        ``callback(uch, address, size, user_data)`` runs in C's call: an exception
        must not escape it (store it in ``uc._hook_exception`` and stop, as the
        binding does).  Returns what ``unhook_c`` needs (the callback must outlive
        the hook)."""
        fptr = HOOK_CODE_CFUNC(callback)
        handle = uc_hook_h()
        status = uclib.uc_hook_add(
            self.uch, ctypes.byref(handle), kind, fptr, None,
            ctypes.c_uint64(begin), ctypes.c_uint64(end),
        )  # fmt: skip
        if status:
            raise UcError(status)
        return handle, fptr

    def unhook_c(self, hook) -> None:
        status = uclib.uc_hook_del(self.uch, hook[0])
        if status:
            raise UcError(status)

    def context_of(self, cpu: CPU):
        """The saved context of a CPU that is not loaded (powered on if needed)."""
        if cpu.context is None:
            self._start_cpu(cpu)
        return cpu.context

    def _start_cpu(self, cpu: CPU) -> None:
        """Power ``cpu`` on: protected mode, its GDT, the kernel's selectors."""
        if cpu.gdtr is None:
            raise MachineError(f"CPU {cpu.index} has no GDT loaded")
        context = ctypes.create_string_buffer(bytes(self._reset), self._size)
        regs = {"gdtr": (0, *cpu.gdtr, 0), **KERNEL_SEGMENTS}
        # Segment loads go through the GDT, so they need the live CPU: borrow it.
        was = self.loaded
        self._save_loaded()
        uclib.uc_context_restore(self.uch, context)
        for name, value in regs.items():
            self.uc.reg_write(x86_const.UC_X86_REG_GDTR if name == "gdtr" else UC_REG[name], value)
        uclib.uc_context_save(self.uch, context)
        cpu.context = context
        self.loaded = None
        if was is not None:
            self.load_cpu(was)

    def _save_loaded(self) -> None:
        if self.loaded is not None:
            uclib.uc_context_save(self.uch, self.loaded.context)
            self.loaded = None

    def load_cpu(self, cpu: CPU) -> None:
        """Make ``cpu`` the one Unicorn runs (a context switch of the host, not the guest)."""
        if self.loaded is cpu:
            return
        context = self.context_of(cpu)
        self._save_loaded()
        uclib.uc_context_restore(self.uch, context)
        self.loaded = cpu

    # -- images and snapshots -----------------------------------------------

    def load(self, image) -> None:
        """Place an assembled image at its origin and publish its symbols."""
        end = image.origin + len(image.code)
        self.mem.write(image.origin, image.code)
        self.forget_code(image.origin, end)
        self.privileged.scan(image.origin, end)
        # .L labels are the assembler's own (GNU as keeps none in its symbol table).
        inside = sorted(
            (a, n) for n, a in image.symbols.items()
            if image.origin <= a < end and not n.startswith(".L")
        )  # fmt: skip
        starts = sorted({a for a, _ in inside}) + [end]
        for addr, name in inside:
            # A label runs to the next label at a higher address (aliases share it).
            nxt = starts[bisect.bisect_right(starts, addr)]
            self.symbols.add(name, addr, nxt - addr, "asm", shadow=True)
        self._add_source(image, end)

    def source_line(self, addr: int):
        """(file, line, text) of the source statement ``addr`` was assembled from
        (gdb's line table), or None outside every loaded image's code."""
        i = bisect.bisect_right(self.sources, (addr, float("inf"))) - 1
        if i < 0 or addr >= self.sources[i][1]:
            return None
        _, _, filename, starts, rows, _ = self.sources[i]
        j = bisect.bisect_right(starts, addr) - 1
        if j < 0 or addr >= rows[j].addr + rows[j].size:
            return None
        return filename, rows[j].lineno, rows[j].text

    def _add_source(self, image, end: int) -> None:
        rows = sorted((line for line in image.lines if line.size), key=lambda line: line.addr)
        entry = (image.origin, end, image.filename, [r.addr for r in rows], rows, image)
        # An image loaded over another (a test's file, again) replaces its lines.
        kept = [s for s in self.sources if s[1] <= image.origin or s[0] >= end]
        self.sources = tuple(sorted([*kept, entry], key=lambda s: s[0]))

    def images(self) -> list:
        """The assembled images loaded now, lowest address first (their debug
        information: Image.debug, for an ELF writer)."""
        return [entry[-1] for entry in self.sources]

    def forget_code(self, start: int, end: int) -> None:
        """Drop translations of [start, end): host-side writes are invisible to Unicorn."""
        if end > start:
            self.uc.ctl_remove_cache(start, end)

    def save(self, ranges) -> tuple:
        """The machine's state: the given RAM ranges, every CPU, the symbol table."""
        self._save_loaded()
        contexts = [None if c.context is None else c.context.raw for c in self.cpus]
        extra = [(c.gdtr, c.skip_thunk, c.rehit) for c in self.cpus]
        return (
            self.mem.save(ranges),
            contexts,
            extra,
            self.symbols.copy(),
            self.privileged.save(),
            self.sources,
            self.clock.save(),
        )

    def restore(self, state) -> None:
        saved_ram, contexts, extra, symbols, privileged, self.sources, clock = state
        for start, end in self.mem.restore(saved_ram):
            self.forget_code(start, end)  # only what changed: the rest stays translated
        self.loaded = None
        for cpu, raw, (gdtr, skip, rehit) in zip(self.cpus, contexts, extra, strict=True):
            cpu.context = None if raw is None else ctypes.create_string_buffer(raw, self._size)
            cpu.gdtr, cpu.skip_thunk, cpu.rehit = gdtr, skip, rehit
            cpu.stop = cpu.fault_address = None
        self.symbols.replace_with(symbols)
        self.privileged.restore(privileged)
        self.clock.restore(clock)

    def add_python_function(self, name: str, addr: int) -> None:
        """Give Python function ``name`` the guest address ``addr`` (a ``ret`` thunk)."""
        self.mem.write(addr, bytes([RET]))
        self.python_functions[addr] = name
        self.symbols.add(name, addr, 1, "python")

    # -- hooks ----------------------------------------------------------------

    def hook_add(self, kind: int, callback, begin: int = 1, end: int = 0) -> int:
        """A hook on the one Unicorn: ``callback(uc, *event, cpu)``, where ``cpu`` is
        the CPU running when the event happens."""

        def on_event(uc, *args):
            return callback(uc, *args[:-1], self.loaded)

        return self.uc.hook_add(kind, on_event, None, begin, end)

    def hook_del(self, handle: int) -> None:
        self.uc.hook_del(handle)

    def _on_thunk_c(self, _uch, addr, _size, _user):
        # Called from C: an exception is kept for emu_start to raise, as the binding does.
        try:
            self._on_thunk(self.uc, addr)
        except BaseException as err:  # noqa: BLE001 - emu_start raises it when it returns
            if self.uc._hook_exception is None:
                self.uc._hook_exception = err
            self.uc.emu_stop()

    def _on_thunk(self, uc, addr):
        cpu = self.loaded
        clock = self.clock
        if addr == self.map.py_ret:
            clock.glue()
            if self.pyreturn(cpu):
                cpu.stop = cpu.stop or PythonReturn(addr)
                uc.emu_stop()
        elif cpu.skip_thunk == addr:
            clock.glue(rehit=cpu.rehit)
            cpu.skip_thunk, cpu.rehit = None, False
        elif addr in self.python_functions:
            if clock.alerted:
                clock.pause(None)  # an alert is served before the call
                return
            for observe in self.call_observers:
                observe(cpu, addr)
                if clock.pausing:
                    return  # stopped before the call: it is made when the CPU goes on
            clock.python_call(cpu)
            if self.pycall(cpu, addr):
                # pycall may have set a Fault of its own (a bad pointer in Python code).
                cpu.stop = cpu.stop or PythonCall(addr, self.python_functions[addr])
                uc.emu_stop()
            elif clock.replanned:
                # The run ends before the thunk's ret: it runs apart, once.
                cpu.skip_thunk, cpu.rehit = addr, True

    def _on_unmapped(self, uc, access, address, size, value, _):
        self.loaded.fault_address = (address, _ACCESS.get(access, "access"))
        return False

    def _on_interrupt(self, uc, vector, _):
        cpu = self.loaded
        if self.trap and self.trap(cpu, vector):
            return  # the kernel handled it in place (a single-step trap)
        cpu.stop = Fault(cpu.read("eip"), "trap", vector=vector)
        uc.emu_stop()

    # -- running ----------------------------------------------------------------

    def run(self, cpu: CPU, pc: int, budget: int) -> StopReason | None:
        """Run ``cpu`` from ``pc`` for at most ``budget`` instructions (hits of
        Unicorn's counter: the glue included); returns why it stopped (a hook's
        reason, a fault), or BudgetExhausted.  The run is cut at the clock's
        deadlines, which run at those boundaries; the budget is spent as by one
        uninterrupted run."""
        self.load_cpu(cpu)
        cpu.stop = cpu.fault_address = None
        clock = self.clock
        left = budget
        while True:
            limit = clock.plan(cpu, pc, left)
            if limit == 0:
                clock.fire(cpu)
                pc = cpu.read("eip")
                continue
            clock.begin(cpu, limit)
            try:
                self.uc.emu_start(pc, 0, count=limit)
            except UcError as err:
                clock.end()
                return self._fault(cpu, err)
            except BaseException:
                clock.end()
                raise
            left -= clock.end()
            if cpu.stop is not None:
                return cpu.stop
            pc = cpu.read("eip")
            if left <= 0:
                return BudgetExhausted(pc, budget)

    def _fault(self, cpu: CPU, err: UcError) -> Fault:
        eip = cpu.read("eip")
        if cpu.fault_address is not None:
            address, access = cpu.fault_address
            return Fault(eip, "page", address=address, access=access)
        if err.errno == UC_ERR_INSN_INVALID:
            return Fault(eip, "invalid_opcode")
        return Fault(eip, "trap", vector=13)
