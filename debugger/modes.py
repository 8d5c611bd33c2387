"""What the engine is running for: one mode at a time, each a small frozen value.

A resuming command (``cont``, ``stepi``, ``finish``, ...) sets the mode; the
engine pays only for what the mode needs (debugger/engine.py): a deadline on
the machine's clock (``StepCount``, ``Goto``, the end of a ``Scan``), a hook at
one address (``ReturnTo``, breakpoints), a hook on every instruction (the line
and instruction steps that must look at each one), Python tracing (the
``Py*`` modes).  ``Goto`` and ``Scan`` are what a checkpoint woken to go back
runs (they travel to it pickled): nothing stops them but their end.
"""

from dataclasses import dataclass, field
from functools import cache


@dataclass(frozen=True)
class LineKey:
    """Where a line step started: the stepping CPU and task, and the source line."""

    cpu: int
    task: int
    file: str
    line: int


@dataclass(frozen=True)
class Continue:
    """Until a breakpoint, a watchpoint, a fault, a lockup or Ctrl-C."""


CONTINUE = Continue()


HOOKED_STEPS = 16  # stepi N up to this many: the hook on every instruction counts them


@dataclass(frozen=True)
class StepCount:
    """``stepi N``: stop ``steps`` instructions on (the engine keeps the count that
    is: its target).  A few (``each``) are counted by the hook on every
    instruction, which stops at once; more by a deadline on the clock.  One
    value per N (``stepping``): stepping makes one at every step."""

    steps: int
    each: bool = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "each", self.steps <= HOOKED_STEPS)


stepping = cache(StepCount)


@dataclass(frozen=True)
class ReturnTo:
    """``finish``, ``nexti`` over a call: stop at ``address`` once esp is above ``sp``."""

    address: int
    sp: int


@dataclass(frozen=True)
class GuestStep:
    """The next guest instruction (not a call into Python): after a Python function
    returned to its guest caller."""


@dataclass(frozen=True)
class PyStep:
    """``step``: the next Python kernel line, or the next guest instruction
    (``line`` None) or, in guest code, the first one of another ``.S`` line."""

    line: LineKey | None = None


@dataclass(frozen=True)
class LineNext:
    """``next`` in guest code: another ``.S`` line of the stepping task, the calls
    the line makes run over (``ret``: the return address and stack pointer of the
    one being run over)."""

    line: LineKey
    ret: tuple[int, int] | None = None


@dataclass(frozen=True)
class PyNext:
    """``next`` in Python: the next line of ``frame`` (calls and sleeps run over)."""

    frame: object


@dataclass(frozen=True)
class PyFinish:
    """``finish`` in Python: until ``frame`` returns."""

    frame: object


@dataclass(frozen=True)
class PyCaller:
    """Back in ``frame`` (the caller of a finished one): its next line."""

    frame: object


# -- going back ---------------------------------------------------------------


@dataclass(frozen=True)
class Goto:
    """Replay to ``target`` (the machine-wide count, or CPU ``cpu``'s own) and stop
    there for ``reason``, as the forward run stopped (``breakpoint``: the number of
    the breakpoint or watchpoint hit there, ``watch`` its values).  reverse-nexti
    goes on from there: ``frame`` (task, pc, sp) is the frame it started in,
    ``then_nexti`` how many more it takes."""

    target: int
    reason: str  # "step", "breakpoint", "watchpoint", "history"
    cpu: int | None = None
    breakpoint: int | None = None
    watch: tuple | None = None
    frame: tuple | None = None
    then_nexti: int = 0


@dataclass(frozen=True)
class Breakpoints:
    """What reverse-continue looks for: a breakpoint or watchpoint hit."""


@dataclass(frozen=True)
class CallOf:
    """What reverse-finish looks for: the call on CPU ``cpu`` that pushed return
    address ``ret`` at stack slot ``slot`` (``then_nexti``: reverse-nexti's, more
    to take after it)."""

    cpu: int
    ret: int
    slot: int
    then_nexti: int = 0


@dataclass(frozen=True)
class FrameOf:
    """What reverse-nexti looks for when the CPU ran another task just before: the
    last instruction ``task`` ran on CPU ``cpu`` with esp at or above ``sp``."""

    cpu: int
    task: int
    sp: int
    then_nexti: int = 0


@dataclass(frozen=True)
class Scan:
    """Replay from the checkpoint at ``start`` to ``end``, noting where ``what``
    happens; then go to the last such point, or scan the interval before."""

    start: int
    end: int
    what: Breakpoints | CallOf | FrameOf


REPLAYS = (Goto, Scan)
