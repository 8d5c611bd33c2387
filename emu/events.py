"""Why a CPU stopped running guest code.  Every stop has one of these reasons."""

from dataclasses import dataclass


@dataclass(frozen=True)
class StopReason:
    eip: int


@dataclass(frozen=True)
class PythonCall(StopReason):
    """Guest code called a Python-implemented function that must leave the CPU
    (it blocks, or calls back into guest code)."""

    name: str


@dataclass(frozen=True)
class PythonReturn(StopReason):
    """A guest function called from Python returned (reached the py_ret trap)."""


@dataclass(frozen=True)
class Fault(StopReason):
    """The CPU raised an exception the kernel would turn into an oops.

    ``kind`` is "page" (unmapped access at ``address``), "invalid_opcode",
    or "trap" (another vector, in ``vector``)."""

    kind: str
    address: int = 0
    access: str = ""
    vector: int = 0
    detail: str = ""  # why this machine refused the instruction (emu/privileged.py)


@dataclass(frozen=True)
class BudgetExhausted(StopReason):
    """The run used its whole instruction budget without stopping."""

    budget: int


@dataclass(frozen=True)
class Breakpoint(StopReason):
    """A requested stop address was reached (the instruction has not run)."""


@dataclass(frozen=True)
class Halt(StopReason):
    """The CPU reached a ``hlt`` (it has not run): it waits for an interrupt."""
