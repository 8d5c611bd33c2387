"""The count a stop reports is what single-stepping gives (kthreadd_emu/exactness.py):
thousands of random stops of a fast run (breakpoints, watchpoints, stepi N,
nexti) against a run stepped one instruction at a time, itself checked against
a Python hook on every instruction.  And `continue` runs guest code with no
Python per instruction: the debugger's hooks run only where they stop."""

import pytest

from debugger.engine import Debugger, QuitDebugger
from emu.clock import Clock
from kthreadd_emu import exactness


def test_thousands_of_random_stops_are_at_the_stepped_count():
    result = exactness.stop_count_check(seed=11, stops=3000)
    assert result["stepped"] > 4000  # instructions, Python calls and context switches
    assert result["independent_differences"] == 0
    assert result["stops"] >= 3000
    assert result["differences"] == 0


def test_the_check_sees_a_count_one_off(monkeypatch):
    """A breakpoint's stop counted as if its instruction had run: found."""
    pause = Clock.pause

    def off_by_one(self, callback):
        pause(self, callback)
        self._uncounted -= 1

    trace, _ = exactness.stepped(exactness.churn_kernel)
    monkeypatch.setattr(Clock, "pause", off_by_one)
    checked, wrong = exactness.fast(exactness.churn_kernel, trace, seed=3, stops=300)
    assert checked and wrong


SPIN = "\t.globl loop\nloop:\tmovl $100000, %ecx\n1:\tdecl %ecx\n\tjnz 1b\nafter:\tnop\nfar:\tret\n"


def test_continue_runs_guest_code_with_no_python_per_instruction(tmp_path, monkeypatch):
    """200,000 instructions to a breakpoint after the loop, another one elsewhere:
    the hooks the engine puts on every instruction never run, the one at each
    breakpoint runs only when reached, and the machine runs in few slices."""
    from kthreadd_emu.options import prepared_run

    source = tmp_path / "loop.S"
    source.write_text(SPIN)
    kern = prepared_run([str(source)], "kthread loop budget=1000000", 2)
    calls = {"every": 0, "site": 0}
    for name, key in (("_every_instruction", "every"), ("_at_site", "site")):
        body = getattr(Debugger, name)
        monkeypatch.setattr(Debugger, name, lambda self, cpu, addr, b=body, k=key: (
            calls.__setitem__(k, calls[k] + 1), b(self, cpu, addr))[1])  # fmt: skip
    runs = [0]
    machine_run = kern.machine.uc.emu_start

    def counted(*args, **kw):
        runs[0] += 1
        return machine_run(*args, **kw)

    stops = []

    def on_stop(stop):
        stops.append((stop.reason, stop.pc))
        if len(stops) == 1:
            dbg.break_at("after")
            dbg.break_at("far")
            kern.machine.uc.emu_start = counted
            dbg.cont()
        else:
            raise QuitDebugger

    dbg = Debugger(kern, on_stop)
    dbg.timeline = None
    dbg.start()
    assert stops[-1] == ("breakpoint", kern.symbols["after"])
    assert calls == {"every": 0, "site": 1}
    assert runs[0] < 100  # 200,000 instructions: a run per time slice and per stop


@pytest.mark.parametrize("n", [1, 7, 20000])
def test_stepi_n_is_n_instructions_of_the_clock(tmp_path, n):
    from kthreadd_emu.options import prepared_run

    source = tmp_path / "loop.S"
    source.write_text(SPIN)
    kern = prepared_run([str(source)], "kthread loop budget=1000000", 1)
    counts = []

    def on_stop(stop):
        counts.append((stop.reason, dbg.icount))
        if len(counts) == 1:
            dbg.break_at("loop")
            dbg.cont()
        elif len(counts) == 2:
            dbg.stepi(n)
        else:
            raise QuitDebugger

    dbg = Debugger(kern, on_stop)
    dbg.timeline = None
    dbg.start()
    (_, hit), (reason, stepped) = counts[1:]
    assert reason == "step" and stepped - hit == n


MID = (
    "\t.globl loop\nloop:\tmovl $5000, %ecx\n1:\tdecl %ecx\nmid:\tjnz 1b\nafter:\tnop\nfar:\tret\n"
)


def test_the_hits_log_answers_reverse_continue_only_for_breakpoints_watched_since(tmp_path):
    """The hit the forward run stopped at is where reverse-continue goes, with no
    scan, if every breakpoint was there since before it; a breakpoint set later
    may have hits the log never saw: then there is no answer (a scan finds it)."""
    from kthreadd_emu.options import prepared_run

    source = tmp_path / "loop.S"
    source.write_text(MID)
    kern = prepared_run([str(source)], "kthread loop budget=1000000", 1)
    answers = []

    def on_stop(stop):
        if stop.reason == "start":
            dbg.break_at("loop")
            dbg.break_at("after")
        elif stop.pc == kern.symbols["after"]:
            answers.append(dbg._logged_hit(dbg.icount))
            dbg.break_at("mid")
            answers.append(dbg._logged_hit(dbg.icount))
            raise QuitDebugger
        dbg.cont()

    dbg = Debugger(kern, on_stop)
    dbg.timeline = None
    dbg.start()
    at_loop, after_mid = answers
    assert at_loop.reason == "breakpoint" and at_loop.breakpoint == 1
    assert at_loop.target < dbg.icount - 10_000  # the loop ran in between
    assert after_mid is None
