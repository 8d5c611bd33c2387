"""The machine: CPUs sharing one RAM, the loaded images, the symbol table.

The machine runs guest code and reports why it stopped; it knows nothing
about tasks.  Python-implemented functions get a one-byte ``ret`` thunk
each: a guest ``call`` lands on the thunk, a code hook hands the call to
``pycall`` (installed by the kernel model), and the ``ret`` then returns
to the caller with whatever the Python side left in %eax.
"""

import bisect

from unicorn import UC_MEM_FETCH_UNMAPPED, UC_MEM_READ_UNMAPPED, UC_MEM_WRITE_UNMAPPED, UcError
from unicorn.unicorn_const import UC_ERR_INSN_INVALID

from emu.cpu import CPU
from emu.events import BudgetExhausted, Fault, PythonCall, PythonReturn, StopReason
from emu.memory import Memory, MemoryMap
from emu.symbols import SymbolTable

MAX_CPUS = 256
RET, HLT = 0xC3, 0xF4
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
        self.cpus = [CPU(self, i) for i in range(ncpus)]
        self.python_functions: dict[int, str] = {}
        self.pycall = None  # pycall(cpu, addr) -> True to stop the CPU
        self.call_observers = []  # observer(cpu, addr): a Python function is about to run
        self.mem.write(self.map.py_ret, bytes([HLT]))
        self.symbols.add("py_ret", self.map.py_ret, 1, "python")

    def load(self, image) -> None:
        """Place an assembled image at its origin and publish its symbols."""
        end = image.origin + len(image.code)
        self.mem.write(image.origin, image.code)
        for cpu in self.cpus:
            cpu.forget_code(image.origin, end)
        inside = sorted((a, n) for n, a in image.symbols.items() if image.origin <= a < end)
        starts = sorted({a for a, _ in inside}) + [end]
        for addr, name in inside:
            # A label runs to the next label at a higher address (aliases share it).
            nxt = starts[bisect.bisect_right(starts, addr)]
            self.symbols.add(name, addr, nxt - addr, "asm")

    def save(self, ranges) -> tuple:
        """The machine's state: the given RAM ranges, every CPU, the symbol table."""
        return self.mem.save(ranges), [cpu.save() for cpu in self.cpus], self.symbols.copy()

    def restore(self, state) -> None:
        saved_ram, contexts, symbols = state
        self.mem.restore(saved_ram)
        for cpu, context in zip(self.cpus, contexts, strict=True):
            cpu.restore(context)
            for start, data in saved_ram:
                cpu.forget_code(start, start + len(data))
        self.symbols.replace_with(symbols)

    def add_python_function(self, name: str, addr: int) -> None:
        """Give Python function ``name`` the guest address ``addr`` (a ``ret`` thunk)."""
        self.mem.write(addr, bytes([RET]))
        self.python_functions[addr] = name
        self.symbols.add(name, addr, 1, "python")

    def on_thunk(self, uc, addr, size, cpu):
        if cpu.skip_thunk == addr:
            cpu.skip_thunk = None
        elif addr in self.python_functions:
            for observe in self.call_observers:
                observe(cpu, addr)
            if self.pycall(cpu, addr):
                # pycall may have set a Fault of its own (a bad pointer in Python code).
                cpu.stop = cpu.stop or PythonCall(addr, self.python_functions[addr])
                uc.emu_stop()

    def on_unmapped(self, uc, access, address, size, value, cpu):
        cpu.fault_address = (address, _ACCESS.get(access, "access"))
        return False

    def on_interrupt(self, uc, vector, cpu):
        cpu.stop = Fault(cpu.read("eip"), "trap", vector=vector)
        uc.emu_stop()

    def run(self, cpu: CPU, pc: int, budget: int) -> StopReason:
        """Run ``cpu`` from ``pc`` until a stop, or for at most ``budget`` instructions."""
        cpu.stop = cpu.fault_address = None
        try:
            cpu.uc.emu_start(pc, self.map.py_ret, count=budget)
        except UcError as err:
            return self._fault(cpu, err)
        if cpu.stop is not None:
            return cpu.stop
        eip = cpu.read("eip")
        if eip == self.map.py_ret:
            return PythonReturn(eip)
        return BudgetExhausted(eip, budget)

    def _fault(self, cpu: CPU, err: UcError) -> Fault:
        eip = cpu.read("eip")
        if cpu.fault_address is not None:
            address, access = cpu.fault_address
            return Fault(eip, "page", address=address, access=access)
        if err.errno == UC_ERR_INSN_INVALID:
            return Fault(eip, "invalid_opcode")
        return Fault(eip, "trap", vector=13)
