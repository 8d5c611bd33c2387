"""The machine's clock (emu/clock.py): every CPU's exact instruction count, read
from Unicorn's own counter with no Python per instruction, and deadlines that
cut a run at an exact instruction without changing what the machine does."""

import hashlib

import pytest
from unicorn import UC_ARCH_X86, UC_MODE_32, Uc

from emu.clock import counter_offset
from emu.memory import PAGE_OFFSET
from kernel_model.kernel import Kernel
from kernel_model.kthread import kthread_create
from kernel_model.main import rest_init
from kernel_model.sched import kthread_bind, wake_up_process
from kthreadd_emu.scenario import booted_kernel


def booting(ncpus=3):
    kern = Kernel(ncpus)
    kern.start(rest_init)
    return kern


def every_instruction(kern):
    """An independent count, as a debugger used to keep it: a Python hook on every
    instruction (outside the thunks' glue) and one per call into Python.  Returns
    the trace list, appended (count, cpu, eip) before each instruction."""
    m = kern.machine
    trace = []
    thunks = (m.map.thunks, m.map.thunks + m.map.thunks_size)

    def hook(_uch, addr, _size, _user):
        if not thunks[0] <= addr < thunks[1]:
            trace.append((len(trace), m.loaded.index, addr))

    kern.test_hook = m.hook_c(hook, PAGE_OFFSET, m.map.end - 1)  # C keeps no reference
    m.call_observers.append(lambda cpu, addr: trace.append((len(trace), cpu.index, addr)))
    return trace


def test_the_counter_is_found_and_counts_a_run_exactly():
    offset = counter_offset()
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0x1000, 0x1000)
    uc.mem_write(0x1000, b"\x90" * 12 + b"\xf4")
    uc.emu_start(0x1000, 0, count=1000)
    import ctypes

    base = ctypes.cast(uc._uch, ctypes.c_void_p).value
    assert ctypes.c_size_t.from_address(base + offset).value == 13  # 12 nops and the hlt


def test_a_boot_counts_what_a_hook_on_every_instruction_sees():
    kern = booting(3)
    trace = every_instruction(kern)
    kern.run()
    clock = kern.machine.clock
    assert clock.now() == clock.total == len(trace) > 1000
    per_cpu = [sum(1 for _, cpu, _ in trace if cpu == i) for i in range(3)]
    assert [clock.now(i) for i in range(3)] == per_cpu
    assert all(n > 0 for n in per_cpu)


@pytest.mark.parametrize("cpu", [None, 0, 1])
def test_deadlines_fire_before_exactly_that_instruction(cpu):
    """At each deadline the CPU is about to run the instruction the independent
    count has at that number (machine-wide, or that CPU's own)."""
    kern = booting(3)
    trace = every_instruction(kern)
    clock = kern.machine.clock
    seen = []

    def at(c):
        seen.append((clock.now(cpu), c.index, c.read("eip")))
        if len(seen) < 40:
            clock.call_at(clock.now(cpu) + 1 + len(seen) % 5, at, cpu)

    clock.call_at(5, at, cpu)
    kern.run()
    mine = [t for t in trace if cpu is None or t[1] == cpu]
    assert len(seen) == 40
    for count, index, eip in seen:
        assert mine[count][1:] == (index, eip)


SPINNERS = "\t.globl spinner\nspinner:\tmovl $30000, %ecx\n1:\tdecl %ecx\n\tjnz 1b\n\tret\n"


def spinners(tmp_path):
    """A booted 2-CPU machine about to start a thread on each CPU that spins 60,000
    instructions in guest code: the CPUs take turns by the runtime's time slice."""
    kern = booted_kernel(2)
    (tmp_path / "spin.S").write_text(SPINNERS)
    fn = kern.load_asm(tmp_path / "spin.S").symbols["spinner"]

    def main(k):
        tasks = []
        for cpu in range(2):
            tasks.append(k.task((yield from kthread_create(k, fn, cpu, "spin%d", cpu))))
            yield from kthread_bind(k, tasks[-1], cpu)
        for task in tasks:
            wake_up_process(k, task)

    kern.spawn(main)
    return kern


def run_with(make, cut):
    """The scheduling events of ``make()``'s run, each with the machine-wide count,
    and a digest of RAM, with ``cut(kern)`` cutting its runs."""
    kern = make()
    events = []
    clock = kern.machine.clock
    for name in ("sched_switch", "sched_process_fork", "sched_wakeup", "sched_process_exit"):
        kern.register_trace(name, lambda n=name, **_: events.append((n, clock.now())))
    cut(kern)
    kern.run()
    return events, clock.counts, hashlib.sha256(kern.mem.buf).hexdigest()


def deadlines_everywhere(kern):
    clock = kern.machine.clock

    def again(cpu):
        clock.call_at(clock.now() + 7, again)

    clock.call_at(0, again)


def pauses_everywhere(kern):
    """Stop before every 5th guest instruction (it runs again afterwards), as the
    debugger's hooks do (never at the thunks: their hook has run Python already)."""
    m = kern.machine
    state = {"n": 0, "paused_at": None}
    thunks = (m.map.thunks, m.map.thunks + m.map.thunks_size)

    def hook(_uch, addr, _size, _user):
        if thunks[0] <= addr < thunks[1]:
            return
        state["n"] += 1
        here = (m.loaded.index, m.clock.now(), addr)
        if state["n"] % 5 == 0 and state["paused_at"] != here:
            state["paused_at"] = here
            m.clock.pause(lambda cpu: None)

    kern.test_hook = m.hook_c(hook, PAGE_OFFSET, m.map.end - 1)  # C keeps no reference


@pytest.mark.parametrize("cut", [deadlines_everywhere, pauses_everywhere])
@pytest.mark.parametrize("workload", ["boot", "spinners"])
def test_cutting_the_runs_changes_nothing_the_machine_does(cut, workload, tmp_path):
    """The same events at the same counts, the same RAM: a stop, a step or a
    checkpoint leaves the run (the runtime's time slices included) as it was."""
    make = (lambda: booting(3)) if workload == "boot" else (lambda: spinners(tmp_path))
    assert run_with(make, cut) == run_with(make, lambda kern: None)


def test_an_alert_is_served_at_the_next_boundary():
    kern = booting(2)
    clock = kern.machine.clock
    served = []
    clock.on_alert = lambda cpu: served.append(clock.now())
    kern.register_trace("sched_process_fork", lambda **_: clock.alert())
    kern.run()
    forks = kern.data.nr_threads
    assert 1 <= len(served) <= forks and not clock.alerted
