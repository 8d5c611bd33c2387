"""Instruction tracing: the instructions a CPU executes, with the registers
before each of the first ones.

A runaway thread executes a million instructions before its soft lockup, so
a trace keeps a *head* (the first ``head`` steps, registers included) and a
*tail* (the addresses of the last ``tail`` steps) and counts what lies
between.  Per instruction the hook only appends an address; disassembly
happens when the steps are read, once per address.

A call into a Python-implemented function is one step whose text is
``[python] name``: its thunk is the whole function as far as the CPU is
concerned.
"""

from collections import deque
from dataclasses import dataclass

from unicorn import UC_HOOK_CODE

from emu.cpu import REG_NAMES
from emu.disasm import disassemble_one
from emu.memory import PAGE_OFFSET

HEAD = 100
TAIL = 20


@dataclass(frozen=True)
class Step:
    cpu: int
    addr: int
    symbol: str
    insn: str
    regs: dict | None  # None in the tail


class Tracer:
    """Record the steps for which ``want(cpu_index, addr)`` holds, on every CPU."""

    def __init__(self, machine, want, syntax: str = "att", head: int = HEAD, tail: int = TAIL):
        self.machine = machine
        self.want = want
        self.syntax = syntax
        self.head_size = head
        self._head: list[tuple[int, int, dict]] = []  # (cpu, addr, registers)
        self._tail: deque[tuple[int, int]] = deque(maxlen=tail)  # (cpu, addr)
        self.count = 0  # every step seen, head and tail included
        self._texts: dict[int, str] = {}
        self._hook = machine.hook_add(UC_HOOK_CODE, self._on_insn, PAGE_OFFSET, machine.map.end - 1)
        machine.call_observers.append(self._on_python_call)

    def _on_insn(self, uc, addr, size, cpu):
        # A thunk is reported once, by the machine, even if the call blocks and resumes;
        # py_ret is the return-to-Python trap, not an instruction.
        m = self.machine
        if addr not in m.python_functions and addr != m.map.py_ret and self.want(cpu.index, addr):
            self._record(cpu, addr)

    def _on_python_call(self, cpu, addr):
        if self.want(cpu.index, addr):
            self._record(cpu, addr)

    def _record(self, cpu, addr):
        self.count += 1
        if len(self._head) < self.head_size:
            self._head.append((cpu.index, addr, cpu.regs(REG_NAMES)))
        else:
            self._tail.append((cpu.index, addr))

    @property
    def steps(self) -> list[Step]:
        """The head: the first steps, with the registers before each."""
        return [self._step(cpu, addr, regs) for cpu, addr, regs in self._head]

    @property
    def tail(self) -> list[Step]:
        """The last steps after the head (addresses only)."""
        return [self._step(cpu, addr, None) for cpu, addr in self._tail]

    @property
    def skipped(self) -> int:
        """Steps between the head and the tail, not kept."""
        return self.count - len(self._head) - len(self._tail)

    def _step(self, cpu: int, addr: int, regs) -> Step:
        return Step(cpu, addr, self.machine.symbols.describe(addr), self.text(addr), regs)

    def text(self, addr: int) -> str:
        """The instruction at ``addr`` as it is in memory now (cached per address)."""
        if addr not in self._texts:
            name = self.machine.python_functions.get(addr)
            if name is not None:
                self._texts[addr] = f"[python] {name}"
            else:
                code = self.machine.mem.read(addr, 16)
                insn = disassemble_one(code, addr, self.syntax, self.machine.symbols)
                self._texts[addr] = insn.text
        return self._texts[addr]

    def close(self) -> None:
        if self._hook is not None:
            self.machine.hook_del(self._hook)
            self._hook = None
        self.machine.call_observers.remove(self._on_python_call)
