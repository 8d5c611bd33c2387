"""Boot once, snapshot, restore per test: a restored kernel behaves exactly as
the snapshotted one, including code loaded again at the same address."""

import pytest

from debugger.ps import snapshot as ps_snapshot
from kernel_model.kthread import kthread_run, kthread_stop
from kernel_model.runtime import SnapshotError
from kthreadd_emu.scenario import SETTLE_EVENTS, booted_kernel, run_in_thread

ANSWER_A = "\t.globl fn\nfn:\n\tmovl $111, %eax\n\tret\n"
ANSWER_B = "\t.globl fn\nfn:\n\tmovl $222, %eax\n\tret\n"


def run_fn(kern, path):
    image = kern.load_asm(path)
    codes = []
    kern.register_trace("do_exit", lambda task, code: codes.append((task.comm, code)))

    def main(k, out):
        yield from kthread_run(k, image.symbols["fn"], 0, "snap")

    run_in_thread(kern, main)
    kern.run(max_events=SETTLE_EVENTS)
    return [c for comm, c in codes if comm == b"snap"], kern.data.last_pid


@pytest.fixture
def sources(tmp_path):
    a, b = tmp_path / "a.S", tmp_path / "b.S"
    a.write_text(ANSWER_A)
    b.write_text(ANSWER_B)
    return a, b


def test_restore_gives_back_the_same_machine(sources):
    kern = booted_kernel(2)
    kern.run(max_events=SETTLE_EVENTS)
    before = (ps_snapshot(kern), kern.mm.stacks.in_use, kern.data.last_pid, len(kern.log))
    snap = kern.snapshot()
    first = run_fn(kern, sources[0])
    kern.restore(snap)
    assert (ps_snapshot(kern), kern.mm.stacks.in_use, kern.data.last_pid, len(kern.log)) == before
    # Same pids again, and the new code at the same address really runs.
    second = run_fn(kern, sources[1])
    assert first == ([111], second[1]) and second[0] == [222]


def test_restore_refuses_when_a_long_lived_task_moved_on():
    kern = booted_kernel(1)
    kern.run(max_events=SETTLE_EVENTS)
    snap = kern.snapshot()

    def stop_watchdog(k, out):
        out["ret"] = yield from kthread_stop(k, k.percpu_threads[0]["watchdog"])

    assert run_in_thread(kern, stop_watchdog)["ret"] == 0
    with pytest.raises(SnapshotError):
        kern.restore(snap)
