"""kernel/kthread.c semantics on the booted machine: who names the thread and
when, the parked state, kthread_stop, binding, and misuse."""

import pytest

from kernel_model.consts import EINTR, IS_ERR, TASK_UNINTERRUPTIBLE
from kernel_model.kthread import (
    KthreadError,
    kthread_create,
    kthread_run,
    kthread_stop,
)
from kernel_model.sched import kthread_bind, schedule, task_cpu, wake_up_process
from kthreadd_emu.scenario import booted_kernel, run_in_thread


@pytest.fixture(scope="module")
def kern():
    return booted_kernel(2)


def test_comm_is_kthreadd_until_kthread_create_returns(kern):
    seen = []
    kern.register_trace("sched_process_fork", lambda parent, child: seen.append(child.comm))

    def main(k, out):
        task = k.task((yield from kthread_create(k, k.demo.symbols["answer"], 1, "named-%d", 7)))
        out["after"] = (task.comm, task.state)
        wake_up_process(k, task)

    out = run_in_thread(kern, main)
    assert seen[-1] == b"kthreadd"
    assert out["after"] == (b"named-7", TASK_UNINTERRUPTIBLE)


def test_name_truncated_to_15_characters(kern):
    def main(k, out):
        task = k.task(
            (
                yield from kthread_create(
                    k, k.demo.symbols["answer"], 1, "%s", "a-very-long-thread-name"
                )
            )
        )
        out["comm"] = task.comm
        out["stop"] = yield from kthread_stop(k, task)

    out = run_in_thread(kern, main)
    assert out["comm"] == b"a-very-long-thr"


def test_kthread_stop_before_it_ever_ran_returns_eintr(kern):
    def main(k, out):
        task = k.task((yield from kthread_create(k, k.demo.symbols["answer"], 1, "never")))
        out["ret"] = yield from kthread_stop(k, task)

    assert run_in_thread(kern, main)["ret"] == -EINTR


def test_kthread_stop_returns_threadfn_result(kern):
    runs = kern.demo.symbols["stoppable_runs"]

    def main(k, out):
        before = k.mem.u32(runs)
        task = k.task((yield from kthread_run(k, k.demo.symbols["stoppable"], 0, "stoppable")))
        while k.mem.u32(runs) == before:  # let threadfn start
            yield from schedule(k)
        out["ret"] = yield from kthread_stop(k, task)

    assert run_in_thread(kern, main)["ret"] == 7


def test_thread_parked_on_one_cpu_resumes_bound_on_the_other(kern):
    """kthread() sleeps in Python (schedule) where kthreadd forked it; bound
    elsewhere and woken, it resumes that Python frame on the other CPU."""

    def main(k, out):
        task = k.task((yield from kthread_create(k, k.demo.symbols["where_am_i"], 0, "bound")))
        out["parked_on"] = task_cpu(k, task)
        yield from kthread_bind(k, task, 1 - out["parked_on"])
        out["allowed"] = task.cpus_allowed
        wake_up_process(k, task)

    codes = []
    kern.register_trace("do_exit", lambda task, code: codes.append((task.comm, code)))
    out = run_in_thread(kern, main)
    kern.run()
    other = 1 - out["parked_on"]
    assert out["allowed"] == 1 << other
    assert (b"bound", other) in codes


def test_bind_to_missing_cpu_is_a_clear_error(kern):
    def main(k, out):
        task = k.task((yield from kthread_create(k, k.demo.symbols["answer"], 0, "x")))
        try:
            yield from kthread_bind(k, task, 7)
        except KthreadError as err:
            out["err"] = str(err)
        yield from kthread_stop(k, task)

    assert (
        run_in_thread(kern, main)["err"]
        == "kthread_bind: CPU 7 does not exist (this machine has 2)"
    )


def test_bind_of_a_woken_thread_warns(kern):
    def main(k, out):
        task = k.task((yield from kthread_run(k, k.demo.symbols["stoppable"], 0, "runner")))
        out["before"] = len(k.log)
        yield from kthread_bind(k, task, 0)
        out["ret"] = yield from kthread_stop(k, task)

    out = run_in_thread(kern, main)
    assert kern.log[out["before"] + 1].startswith("WARNING: at kernel/sched.c kthread_bind()")
    assert kern.log[out["before"]] == "------------[ cut here ]------------"


def test_kthread_stop_on_a_freed_task_is_a_clear_error(kern):
    """The kernel would read freed memory (the caller held no reference)."""

    def main(k, out):
        task = k.task((yield from kthread_create(k, k.demo.symbols["answer"], 0, "x")))
        yield from kthread_stop(k, task)
        while task.addr in k.mm.tasks.allocated:  # freed after an RCU grace period
            yield from schedule(k)
        try:
            yield from kthread_stop(k, task)
        except KthreadError as err:
            out["err"] = str(err)

    assert "was freed (use after free" in run_in_thread(kern, main)["err"]


def test_kthread_create_returns_err_ptr_on_failure(kern):
    def main(k, out):
        k.mm.stacks.fail_next = 1
        out["ret"] = yield from kthread_create(k, k.demo.symbols["answer"], 0, "x")

    assert IS_ERR(run_in_thread(kern, main)["ret"])
