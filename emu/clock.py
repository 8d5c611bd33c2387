"""The machine's clock: exactly how many instructions each CPU has executed, and
deadlines on those counts.

Counting costs no Python.  Every run of the machine has an instruction count
(``emu_start(..., count=N)``: the runtime's time slice), and Unicorn enforces
it with a counter of its own, in C, that sees every instruction begun: the
``emu_counter`` of its engine struct, beside the ``emu_count`` it counts to.
The API does not expose it, so the clock finds where it lives once per process
(``counter_offset``: a run with a known count on a scratch instance, checked on
a second one) and reads it as a ctypes word, about 0.1 µs.

What counts (``now``): each guest instruction begun, and a call from guest
code into a Python kernel function (its thunk) as one instruction.  The glue
is not counted: ``py_ret`` (where a guest function returns to its Python
caller) and a thunk's ``ret`` run after its Python side has returned.  Neither
is an instruction the machine refuses before it runs (``hlt``, a privileged
instruction: emu/privileged.py) or one a hook stopped before it ran (which
runs, and counts, when the CPU goes on).  One that faults counts: it began.

Deadlines.  ``call_at(count, callback, cpu)`` runs ``callback(cpu)`` at the
first instruction boundary where the count has been reached (the machine-wide
count, or one CPU's own), before a counted instruction (never at the glue):
the machine cuts its runs there (``plan``: a run's count is at most the
distance to the next deadline), so a deadline costs one more ``emu_start``,
and the state at that boundary is exact.  The debugger stops there (a stepi,
going back to an instruction count, a checkpoint); interrupt delivery can be
scheduled the same way (a CPU's own count: its timer).  ``alert()`` (any
thread, a signal handler: it only sets a flag) asks for ``on_alert(cpu)`` at
the next boundary the machine sees: the end of the run (within the runtime's
time slice), or the next call into Python, or the next instruction a hook
looks at.

A run cut into several keeps the budget the caller gave it (the runtime's
time slice, its soft-lockup bound) in the same units as one uninterrupted run
would: an instruction stopped before and begun again later is paid once.  So
stopping, stepping or checkpointing never changes what the machine does next.

The recorder's clock (``InstructionClock``) reads this one.
"""

import ctypes
import heapq
import itertools
from functools import cache

from unicorn import UC_ARCH_X86, UC_MODE_32, Uc

PYTHON_CALL_COST = 1000
_PROBE_BASE = 0x1000
_PROBE_COUNTS = (0x5A17C0DE1234, 0x3C0FFEE5678)  # unlike any other word of the struct
_PROBE_SCAN = 4096  # bytes of the engine struct searched (the struct is larger)


class ClockUnavailable(RuntimeError):
    """This Unicorn build keeps its instruction counter where the clock cannot find it."""


def _engine_address(uc) -> int:
    return ctypes.cast(uc._uch, ctypes.c_void_p).value


@cache
def counter_offset() -> int:
    """Where Unicorn's ``emu_counter`` lies in its engine struct: runs of ``n`` nops
    and a ``hlt`` (n + 1 instructions counted) with an unusual count each; the
    counter is the word before the one holding that count, in both runs."""
    word = ctypes.sizeof(ctypes.c_size_t)
    found = None
    for count, nops in zip(_PROBE_COUNTS, (7, 3), strict=True):
        uc = Uc(UC_ARCH_X86, UC_MODE_32)
        uc.mem_map(_PROBE_BASE, 0x1000)
        uc.mem_write(_PROBE_BASE, b"\x90" * nops + b"\xf4")
        uc.emu_start(_PROBE_BASE, 0, count=count)
        words = (ctypes.c_size_t * (_PROBE_SCAN // word)).from_address(_engine_address(uc))
        here = {
            (i - 1) * word
            for i in range(1, len(words))
            if words[i] == count and words[i - 1] == nops + 1
        }
        found = here if found is None else found & here
    if len(found) != 1:
        raise ClockUnavailable("cannot find Unicorn's instruction counter in this build")
    return found.pop()


class Deadline:
    """One ``call_at``; ``live`` until it fires or is cancelled."""

    __slots__ = ("count", "cpu", "callback", "live")

    def __init__(self, count: int, cpu, callback):
        self.count, self.cpu, self.callback, self.live = count, cpu, callback, True


class Clock:
    """Per-CPU instruction counts, exact, and deadlines on them."""

    def __init__(self, machine):
        self.machine = machine
        ncpus = len(machine.cpus)
        self.counts = [0] * ncpus  # instructions of runs that ended, per CPU
        self.calls = [0] * ncpus  # calls into Python kernel functions, per CPU
        self.total = 0  # sum(counts)
        self.on_alert = None
        self.alerted = False
        self._counter = ctypes.c_size_t.from_address(_engine_address(machine.uc) + counter_offset())
        # Heaps of (count, order, deadline): machine-wide, and each CPU's own.
        self._wide: list = []
        self._own: list[list] = [[] for _ in range(ncpus)]
        self._seq = itertools.count()
        self.cpu = None  # the CPU of the run in progress
        self._limit = 0
        self._uncounted = 0  # hits of this run that are not instructions
        self._rehits = 0  # hits of this run that begin again what a stop cut (not paid twice)
        self.pausing = False  # a hook of this run stopped the CPU before its instruction
        self.replanned = False  # a deadline came during this run: it ends at the next boundary

    # -- reading ----------------------------------------------------------------

    def now(self, cpu: int | None = None) -> int:
        """Instructions begun so far, machine-wide or on CPU ``cpu`` (inside a hook:
        the hooked instruction included)."""
        running = self.cpu
        if cpu is None:
            if running is None:
                return self.total
            return self.total + self._counter.value - self._uncounted
        if running is not None and running.index == cpu:
            return self.counts[cpu] + self._counter.value - self._uncounted
        return self.counts[cpu]

    def save(self) -> tuple:
        return list(self.counts), list(self.calls)

    def restore(self, saved: tuple) -> None:
        counts, calls = saved
        self.counts, self.calls = list(counts), list(calls)
        self.total = sum(self.counts)

    # -- deadlines -------------------------------------------------------------------

    def call_at(self, count: int, callback, cpu: int | None = None) -> Deadline:
        """``callback(cpu)`` at the first boundary where the count (machine-wide, or
        CPU ``cpu``'s) is ``count`` or more.  Made during a run (by Python kernel
        code's hooks), the run ends at its next boundary, so the deadline is kept."""
        deadline = Deadline(count, cpu, callback)
        queue = self._wide if cpu is None else self._own[cpu]
        heapq.heappush(queue, (count, next(self._seq), deadline))
        if self.cpu is not None and not self.pausing:
            self.replanned = True
            self.machine.uc.emu_stop()
        return deadline

    def cancel(self, deadline: Deadline | None) -> None:
        if deadline is not None:
            deadline.live = False

    def alert(self) -> None:
        """``on_alert(cpu)`` at the next boundary (safe from a signal handler or
        another thread: one flag)."""
        self.alerted = True

    def pause(self, callback) -> None:
        """From a code hook: stop before the hooked instruction, then ``callback(cpu)``
        (if any) at that boundary (the instruction runs when the CPU goes on)."""
        self._uncounted += 1
        self._rehits += 1
        self.pausing = True
        if callback is not None:
            self.call_at(self.now(), callback)
        self.machine.uc.emu_stop()

    def glue(self, rehit: bool = False) -> None:
        """The hook's hit is the glue (py_ret, a thunk's ret), not an instruction;
        ``rehit``: a ret that a stop made run apart from its Python call."""
        self._uncounted += 1
        self._rehits += rehit

    def refused(self) -> None:
        """The hooked instruction is stopped before it runs, and never runs."""
        self._uncounted += 1

    # -- the machine's runs ----------------------------------------------------------

    def _distance(self, cpu) -> int | None:
        """Instructions to the nearest deadline that concerns ``cpu`` (<= 0: due);
        the heads of its queues are live afterwards."""
        wide, own = self._wide, self._own[cpu.index]
        while wide and not wide[0][2].live:
            heapq.heappop(wide)
        while own and not own[0][2].live:
            heapq.heappop(own)
        if wide:
            distance = wide[0][0] - self.total
            if own:
                return min(distance, own[0][0] - self.counts[cpu.index])
            return distance
        return own[0][0] - self.counts[cpu.index] if own else None

    def plan(self, cpu, pc: int, left: int) -> int:
        """How many hits the next run of ``cpu`` may take: ``left`` (its budget) or up
        to the next deadline; 1 to run the glue first at a due deadline; 0 when one
        is due here (``fire``)."""
        distance = self._distance(cpu)
        if not self.alerted and (distance is None or distance > 0):
            return left if distance is None else min(left, distance)
        m = self.machine
        return 1 if pc == m.map.py_ret or pc == cpu.skip_thunk else 0

    def fire(self, cpu) -> None:
        """Run what is due at this boundary, in order (a callback may add more;
        machine-wide deadlines first at a tie)."""
        if self.alerted:
            self.alerted = False
            if self.on_alert is not None:
                self.on_alert(cpu)
        wide, own = self._wide, self._own[cpu.index]
        while True:
            self._distance(cpu)
            if wide and wide[0][0] <= self.total:
                queue = wide
            elif own and own[0][0] <= self.counts[cpu.index]:
                queue = own
            else:
                return
            deadline = heapq.heappop(queue)[2]
            deadline.live = False
            deadline.callback(cpu)

    def begin(self, cpu, limit: int) -> None:
        self.cpu, self._limit = cpu, limit
        self._uncounted = self._rehits = 0
        self.pausing = self.replanned = False

    def end(self) -> int:
        """The run is over: its instructions go on its CPU's count.  Returns the hits
        its budget pays."""
        hits = min(self._counter.value, self._limit)  # a count reached stops the hit after
        executed = hits - self._uncounted
        self.counts[self.cpu.index] += executed
        self.total += executed
        self.cpu = None
        return hits - self._rehits

    def python_call(self, cpu) -> None:
        self.calls[cpu.index] += 1


class InstructionClock:
    """The recorder's timeline (kthreadd_emu/tracing/recorder.py): each CPU's instructions,
    plus ``python_call_cost`` for each call into a Python kernel function, so
    that the kernel's work shows; counted while it runs (``start``/``stop``)."""

    def __init__(self, machine, python_call_cost: int = PYTHON_CALL_COST):
        self.clock = machine.clock
        self.python_call_cost = python_call_cost
        self.running = False
        self._base = [0] * len(machine.cpus)  # what the machine's clock read at 0
        self._held = list(self._base)  # the counts while stopped
        self.counts = _Counts(self)

    def count(self, cpu: int) -> int:
        if not self.running:
            return self._held[cpu]
        clock = self.clock
        return clock.now(cpu) + self.python_call_cost * clock.calls[cpu] - self._base[cpu]

    def start(self) -> None:
        if not self.running:
            self.running = True
            self._base = [0] * len(self._base)
            self._base = [self.count(i) - held for i, held in enumerate(self._held)]

    def stop(self) -> None:
        if self.running:
            self._held = [self.count(i) for i in range(len(self._base))]
            self.running = False


class _Counts:
    """``clock.counts[cpu]``, read when asked."""

    def __init__(self, clock: InstructionClock):
        self._clock = clock

    def __getitem__(self, cpu: int) -> int:
        return self._clock.count(cpu)
