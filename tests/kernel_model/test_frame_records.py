"""The frame records the runtime lays for unwinders (kernel_model/runtime.py):
from a sleeping task's saved ebp, record by record, the Python functions it
is inside and the guest code that called them, as a frame-pointer walk of a C
kernel finds them; a task's Python root ends the walk."""

import pytest

from debugger.tasks import all_tasks
from kernel_model.runtime import OUTERMOST, RECORD, RECORD_FP, RETURN_MARK
from kthreadd_emu.scenario import booted_kernel


@pytest.fixture(scope="module")
def kern():
    return booted_kernel(3)


def walk(kern, task, fp: int) -> list[str]:
    """What each record returns into, innermost first: a Python function's name, a
    guest symbol+offset, or "outermost"."""
    names, out = kern.machine.python_functions, []
    outermost = kern.machine.map.py_ret + OUTERMOST
    for _ in range(32):
        assert task.stack <= fp - 4 * RECORD_FP and fp + 8 <= task.stack + 0x2000, hex(fp)
        link, ret = kern.mem.unpack("<II", fp)
        if ret == outermost:
            return [*out, "outermost"]
        if ret - RETURN_MARK in names:
            out.append(names[ret - RETURN_MARK])
        else:
            out.append(kern.symbols.describe(ret))
            if ret != kern.machine.map.py_ret:
                return out
        fp = link
    raise AssertionError(f"no end to the records of pid {task.pid}: {out}")


def sleeping(kern):
    return [t for t, _ in all_tasks(kern) if t.pid and t.state]


def test_a_record_is_five_words_with_ebp_at_the_saved_ebp():
    assert RECORD == ("ebx", "esi", "edi", "ebp", "eip") and RECORD_FP == 3


def test_kthreadd_is_inside_schedule_inside_kthreadd_called_by_the_helper(kern):
    task = next(t for t in sleeping(kern) if t.comm == b"kthreadd")
    chain = walk(kern, task, kern.mem.u32(task.thread.sp))  # the ebp switch_to saved
    assert chain == ["schedule", "kthreadd", "kernel_thread_helper+0x7"]


def test_every_sleeping_per_cpu_thread_walks_to_kernel_thread_helper(kern):
    threads = [(fn, task) for by_fn in kern.percpu_threads.values() for fn, task in by_fn.items()]
    assert len(threads) == 3 * 5
    for fn, task in threads:
        chain = walk(kern, task, kern.mem.u32(task.thread.sp))
        # schedule() inside the thread function, which kthread() called (a guest
        # call, back through py_ret), which kernel_thread_helper called.
        expected = ["schedule", fn, "py_ret+0x0", "kthread", "kernel_thread_helper+0x7"]
        assert chain == expected, (task.comm, chain)


def test_an_idle_cpu_ends_at_its_python_root(kern):
    for cpu in kern.machine.cpus:
        idle = kern.current(cpu.index)
        assert idle.pid == 0
        assert walk(kern, idle, cpu.read("ebp"))[-1] == "outermost"
