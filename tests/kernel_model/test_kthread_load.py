"""kthread_create under load: many creators at once under several scheduling
seeds, fault injection in do_fork, and a short stress run with pid wrap-around
(the long run is `make stress`)."""

import pytest

from kernel_model.consts import EAGAIN, ENOMEM, IS_ERR, PTR_ERR
from kernel_model.kthread import kthread_create, kthread_stop
from kernel_model.list import list_empty
from kernel_model.pid import RESERVED_PIDS
from kthreadd_emu.lifecycles import stress
from kthreadd_emu.scenario import SETTLE_EVENTS, booted_kernel, run_in_thread


def counts(kern):
    return (
        kern.mm.stacks.in_use,
        kern.mm.tasks.in_use,
        kern.data.pidmap_nr_free,
        kern.data.nr_threads,
        list_empty(kern.mem, kern.data.kthread_create_list.addr),
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_concurrent_creators_lose_nothing(seed):
    kern = booted_kernel(3, seed=seed)
    queued, served, forked = [], [], []
    kern.register_trace("kthread_create", lambda create: queued.append(create.addr))
    kern.register_trace("kthreadd_dequeue", lambda create: served.append(create.addr))
    kern.register_trace("sched_process_fork", lambda parent, child: forked.append(child.pid))
    before = counts(kern)
    results, done = [], []

    def creator(n):
        def main(k):
            mine = []
            for j in range(4):
                mine.append(
                    (yield from kthread_create(k, k.demo.symbols["answer"], j, "c%d/%d", n, j))
                )
            results.extend(mine)
            for task in mine:
                yield from kthread_stop(k, k.task(task))
            done.append(n)
            return 0

        return main

    for n in range(6):
        kern.spawn(creator(n), f"creator{n}")
    kern.run(until=lambda: len(done) == 6, max_events=SETTLE_EVENTS)
    kern.run(max_events=SETTLE_EVENTS)
    assert len(results) == 24 and not any(IS_ERR(t) for t in results)
    assert queued == served  # kthreadd serves requests FIFO
    kthread_pids = forked[6:]  # after the six creators themselves
    assert kthread_pids == sorted(kthread_pids) and len(set(kthread_pids)) == 24
    assert counts(kern) == before


def create_one(kern, inject=lambda k: None):
    def main(k, out):
        inject(k)
        out["ret"] = yield from kthread_create(k, k.demo.symbols["answer"], 0, "victim")
        if not IS_ERR(out["ret"]):
            yield from kthread_stop(k, k.task(out["ret"]))

    return run_in_thread(kern, main)["ret"]


@pytest.fixture(scope="module")
def kern():
    return booted_kernel(2)


@pytest.mark.parametrize(
    "inject, errno",
    [
        (lambda k: setattr(k.mm.stacks, "fail_next", 1), ENOMEM),
        (lambda k: setattr(k.mm.tasks, "fail_next", 1), ENOMEM),
        (lambda k: setattr(k, "max_threads", k.data.nr_threads), EAGAIN),
    ],
    ids=["no stack", "no task_struct", "max_threads"],
)
def test_fork_failure_reaches_the_caller_and_leaks_nothing(kern, inject, errno):
    baseline = counts(kern)
    ret = create_one(kern, inject)
    kern.max_threads = 1 << 15
    assert IS_ERR(ret) and PTR_ERR(ret) == -errno
    kern.run(max_events=SETTLE_EVENTS)
    assert counts(kern) == baseline


def test_exhausted_pids_fail_with_enomem_as_in_2_6_32(kern):
    kern.run(max_events=SETTLE_EVENTS)
    baseline = counts(kern)
    taken = []

    def exhaust(k):
        k.pidmap.pid_max = RESERVED_PIDS + 1
        while (pid := k.pidmap.alloc_pidmap()) > 0:
            taken.append(pid)

    ret = create_one(kern, exhaust)
    for pid in taken:
        kern.pidmap.free_pidmap(pid)
    kern.pidmap.pid_max = 1 << 15
    assert IS_ERR(ret) and PTR_ERR(ret) == -ENOMEM
    kern.run(max_events=SETTLE_EVENTS)
    assert counts(kern) == baseline


def test_short_stress_returns_memory_and_wraps_pids():
    kern = booted_kernel(2)
    kern.run(max_events=SETTLE_EVENTS)
    baseline = counts(kern)
    kern.pidmap.pid_max = 1000
    result = stress(kern, total=1500, alive=8, keep_pids=True)
    assert (result.created, result.failed) == (1500, 0)
    wrap = result.pids.index(999) + 1  # pid_max - 1, then kernel/pid.c wraps
    assert result.pids[wrap : wrap + 2] == [RESERVED_PIDS, RESERVED_PIDS + 1]
    assert counts(kern)[:2] == baseline[:2] and counts(kern)[3:] == baseline[3:]
