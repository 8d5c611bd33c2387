"""Instruction tracing: the registers before each instruction a CPU executes.

A call into a Python-implemented function is one step whose text is
``[python] name``: its thunk is the whole function as far as the CPU is
concerned.
"""

from dataclasses import dataclass

from unicorn import UC_HOOK_CODE

from emu.cpu import REG_NAMES
from emu.disasm import disassemble_one
from emu.memory import PAGE_OFFSET


@dataclass(frozen=True)
class Step:
    cpu: int
    addr: int
    symbol: str
    insn: str
    regs: dict


class Tracer:
    """Record the steps for which ``want(cpu_index, addr)`` holds, on every CPU."""

    def __init__(self, machine, want, syntax: str = "att"):
        self.machine = machine
        self.want = want
        self.syntax = syntax
        self.steps: list[Step] = []
        self._hook = machine.hook_add(UC_HOOK_CODE, self._on_insn, PAGE_OFFSET, machine.map.end - 1)
        machine.call_observers.append(self._on_python_call)

    def _on_insn(self, uc, addr, size, cpu):
        # A thunk is reported once, by the machine, even if the call blocks and resumes;
        # py_ret is the return-to-Python trap, not an instruction.
        m = self.machine
        if addr not in m.python_functions and addr != m.map.py_ret and self.want(cpu.index, addr):
            code = self.machine.mem.read(addr, 16)
            insn = disassemble_one(code, addr, self.syntax, self.machine.symbols)
            self._record(cpu, addr, insn.text)

    def _on_python_call(self, cpu, addr):
        if self.want(cpu.index, addr):
            self._record(cpu, addr, f"[python] {self.machine.python_functions[addr]}")

    def _record(self, cpu, addr, text):
        m = self.machine
        regs = cpu.regs(REG_NAMES)
        self.steps.append(Step(cpu.index, addr, m.symbols.describe(addr), text, regs))

    def close(self) -> None:
        if self._hook is not None:
            self.machine.hook_del(self._hook)
            self._hook = None
        self.machine.call_observers.remove(self._on_python_call)
