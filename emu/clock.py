"""The emulated clock: instructions executed, counted per CPU.

Unicorn has no instruction counter.  A ``UC_HOOK_BLOCK`` hook sees each
translated block as it starts, as (address, size in bytes); the block is
disassembled once (emu/disasm.py) and its instruction count cached by
(address, size).  A block cut short (a stop in a code hook, the end of a
time slice, a fault) still counts whole: the clock may run a few
instructions ahead, never behind.

A call from guest code into a Python-implemented kernel function runs no
emulated instruction; it is charged ``python_call_cost`` instructions so
that the kernel's work shows on a timeline.

The hooks cost a Python callback per block, so they are installed only
while a clock runs (``start``/``stop``): plain runs do not pay for them.
"""

from unicorn import UC_HOOK_BLOCK

from emu.disasm import disassemble

PYTHON_CALL_COST = 1000


class InstructionClock:
    """Per-CPU counts of emulated instructions (plus charged Python calls)."""

    def __init__(self, machine, python_call_cost: int = PYTHON_CALL_COST):
        self.machine = machine
        self.python_call_cost = python_call_cost
        self.counts = [0] * len(machine.cpus)
        self._insns: dict[tuple[int, int], int] = {}
        self._hooks: list = []

    @property
    def running(self) -> bool:
        return bool(self._hooks)

    def start(self) -> None:
        if self.running:
            return
        self._hooks = [self.machine.hook_c(self._block_counter(), kind=UC_HOOK_BLOCK)]
        self.machine.call_observers.append(self._on_python_call)

    def stop(self) -> None:
        if not self.running:
            return
        for hook in self._hooks:
            self.machine.unhook_c(hook)
        self._hooks = []
        self.machine.call_observers.remove(self._on_python_call)

    def _block_counter(self):
        counts, insns, count_block = self.counts, self._insns, self.block_instructions
        machine = self.machine

        def on_block(_uch, address, size, _user_data):
            n = insns.get((address, size))
            if n is None:
                n = insns[address, size] = count_block(address, size)
            counts[machine.loaded.index] += n

        return on_block

    def block_instructions(self, address: int, size: int) -> int:
        """How many instructions the block [address, address + size) holds (at least 1)."""
        mem = self.machine.mem
        if size <= 0 or not mem.contains(address, size):
            return 1
        return max(1, len(disassemble(mem.read(address, size), address)))

    def _on_python_call(self, cpu, addr):
        self.counts[cpu.index] += self.python_call_cost
