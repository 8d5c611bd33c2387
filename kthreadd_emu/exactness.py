"""Does a stop report the instruction count that single-stepping gives?

The debugger counts instructions with the machine's clock (emu/clock.py: in C,
while guest code runs at full speed), and stops in guest code by cutting the
run (a breakpoint's hook, a watchpoint, a deadline).  This is the check: a
workload (threads that loop through guest code, calls into Python and context
switches, on several CPUs) is run twice on identical machines:

* stepped: ``stepi`` after ``stepi``, each stop giving (count, CPU, EIP), while
  an independent count runs beside it, a Python hook on every instruction (what
  the debugger used to be) noting each instruction as it begins;
* fast: ``continue`` to random breakpoints (guest code and Python functions'
  entries) and watchpoints (each CPU's ``current_task``, which every context
  switch writes), random ``stepi N`` and ``nexti``.

Every stop of the fast run must be at the count where the stepped run was at
the same CPU and EIP, and the stepped counts must be the independent one's.
``make bench`` reports the differences (0), the test suite runs it seeded.
"""

import random
import tempfile
from pathlib import Path

from debugger.engine import Debugger, DebuggerError, QuitDebugger
from emu.memory import PAGE_OFFSET
from kernel_model.consts import CLONE_FILES, CLONE_FS
from kernel_model.process_32 import kernel_thread
from kthreadd_emu.scenario import booted_kernel, current_task_slots

MAX_RUNS = 100  # fast runs, each to its random stops, until enough were checked
CHURN_SOURCE = """\
\t.globl churn
churn:
\tmovl %eax, %esi
1:\tcall raw_smp_processor_id
\tpushl %esi
\tpushl %eax
\tcall schedule
\taddl $4, %esp
\tpopl %esi
\tdecl %esi
\tjnz 1b
\txorl %eax, %eax
\tret
"""


def churn_kernel(ncpus: int = 3, threads: int = 4, rounds: int = 40):
    """A booted machine with ``threads`` kernel threads about to start, each going
    ``rounds`` times through raw_smp_processor_id (Python) and schedule()."""
    kern = booted_kernel(ncpus)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "churn.S"
        path.write_text(CHURN_SOURCE)
        fn = kern.load_asm(path).symbols["churn"]

    def main(k):
        for _ in range(threads):
            kernel_thread(k, fn, rounds, CLONE_FS | CLONE_FILES)
        return
        yield

    kern.spawn(main, "churn")
    return kern


def stepped(make) -> tuple[dict, int]:
    """Single-step the whole run of ``make()``: {count: (cpu, eip)} at every stop,
    and how often the independent count disagreed: the instruction a stop at
    count N is before must be the Nth that hook saw begin."""
    kern = make()
    m = kern.machine
    begun: list[int] = []
    thunks = (m.map.thunks, m.map.thunks + m.map.thunks_size)

    def every(_uch, addr, _size, _user):
        if not thunks[0] <= addr < thunks[1]:
            begun.append(addr)

    hook = m.hook_c(every, PAGE_OFFSET, m.map.end - 1)
    m.call_observers.append(lambda cpu, addr: begun.append(addr))
    trace: dict[int, tuple[int, int]] = {}
    start = []

    def on_stop(stop):
        if stop.reason == "idle":
            raise QuitDebugger
        if stop.reason == "start":
            start.append(dbg.icount)
        else:
            trace[dbg.icount] = (stop.cpu, stop.pc)
        dbg.stepi()

    dbg = Debugger(kern, on_stop)
    dbg.timeline = None
    dbg.start()
    m.unhook_c(hook)
    base = start[0]
    misses = sum(
        count - base >= len(begun) or begun[count - base] != pc for count, (_, pc) in trace.items()
    )
    return trace, misses


def fast(make, trace: dict, seed: int, stops: int) -> tuple[int, int]:
    """Run ``make()`` at full speed to random stops; (stops checked, differences)."""
    rng = random.Random(seed)
    kern = make()
    addresses = sorted({pc for _, pc in trace.values()})
    checked, wrong = [0], [0]

    def on_stop(stop):
        if stop.reason in ("breakpoint", "watchpoint", "step"):
            checked[0] += 1
            wrong[0] += trace.get(dbg.icount) != (stop.cpu, stop.pc)
        if stop.reason == "idle" or checked[0] >= stops:
            raise QuitDebugger
        if stop.reason == "start":
            for addr in rng.sample(addresses, min(8, len(addresses))):
                dbg.break_at(addr)
            for slot in current_task_slots(kern)[:2]:
                dbg.watch(slot, 4)
        resume(rng.random())

    def resume(choice: float) -> None:
        if choice < 0.1:
            for bp in dbg.breakpoints:
                if bp.kind == "breakpoint":
                    dbg.delete(bp.number)
                    dbg.break_at(rng.choice(addresses))
                    break
        if choice < 0.55:
            dbg.cont()
        elif choice < 0.9:
            dbg.stepi(rng.randint(1, 40))
        else:
            try:
                dbg.nexti()
            except DebuggerError:
                dbg.cont()

    dbg = Debugger(kern, on_stop)
    dbg.timeline = None
    dbg.start()
    return checked[0], wrong[0]


def stop_count_check(seed: int = 1, stops: int = 3000, make=churn_kernel) -> dict:
    """The stepped run once, then fast runs (new seeds) until ``stops`` were checked."""
    trace, independent = stepped(make)
    checked = wrong = 0
    for _ in range(MAX_RUNS):
        n, bad = fast(make, trace, seed, stops - checked)
        checked, wrong, seed = checked + n, wrong + bad, seed + 1
        if checked >= stops:
            break
    return {
        "stepped": len(trace),
        "independent_differences": independent,
        "stops": checked,
        "differences": wrong,
    }
