"""Where the scheduler puts a task once sched_init_smp() has built the domains
(kernel/sched_fair.c, 2.6.32): a fork goes to the least loaded CPU, a wake-up
stays on the task's CPU unless wake_affine() pulls it to the waker's; and
set_cpus_allowed_ptr() moves a running or queued task through its CPU's
migration thread."""

import pytest

from kernel_model.consts import EINVAL, TASK_INTERRUPTIBLE, TASK_RUNNING
from kernel_model.runtime import RELAX
from kernel_model.sched import (
    current,
    schedule,
    set_cpus_allowed_ptr,
    set_current_state,
    task_cpu,
    wake_up_process,
)
from kthreadd_emu.scenario import booted_kernel, run_in_thread


@pytest.mark.parametrize("profile", ["vanilla", "rhel6"])
@pytest.mark.parametrize("hogs, woken_on", [(0, 1), (2, 0)])
def test_wake_affine_pulls_a_wakee_only_from_a_loaded_cpu(profile, hogs, woken_on, spawn_here):
    """The waker runs alone on CPU 0; the sleeper last ran on CPU 1.  With CPU 1
    idle it is woken there; with two CFS tasks runnable on CPU 1 the loads are
    balanced enough (100 * (1024 + 1024) <= 112 * 2048) to pull it to CPU 0."""
    kern = booted_kernel(2, profile=profile)
    state = {"hogs": 0}

    def sleeper(k):
        yield from set_cpus_allowed_ptr(k, current(k), 1 << 1)
        assert k.this_cpu == 1
        yield from set_cpus_allowed_ptr(k, current(k), 0b11)  # may go anywhere again
        state["sleeper"] = current(k)
        set_current_state(k, TASK_INTERRUPTIBLE)
        yield from schedule(k)
        state["ran_on"] = k.this_cpu
        return 0

    def hog(k):
        yield from set_cpus_allowed_ptr(k, current(k), 1 << 1)
        state["hogs"] += 1
        while "ran_on" not in state:
            yield from schedule(k)  # always runnable
        return 0

    def waker(k, out):
        yield from set_cpus_allowed_ptr(k, current(k), 1 << 0)
        spawn_here(k, sleeper, "sleeper")
        for n in range(hogs):
            spawn_here(k, hog, f"hog{n}")
        while not ("sleeper" in state and state["sleeper"].state and state["hogs"] == hogs):
            yield from schedule(k)
        out["load"] = sum(1 for a in k.on_rq if task_cpu(k, k.task(a)) == 1)
        assert wake_up_process(k, state["sleeper"]) == 1
        out["woken_on"] = task_cpu(k, state["sleeper"])
        while "ran_on" not in state:
            yield from schedule(k)

    out = run_in_thread(kern, waker)
    assert out["load"] == hogs
    assert out["woken_on"] == state["ran_on"] == woken_on


def test_a_fork_goes_to_the_least_loaded_cpu(spawn_here):
    """find_idlest_group: from a CPU where the parent runs to an idle one, the
    next one round the ring from ours first."""
    kern = booted_kernel(3, profile="vanilla")
    placed = {}

    def child(k):
        placed[current(k).pid] = k.this_cpu
        yield from schedule(k)
        return 0

    def parent(k, out):
        yield from set_cpus_allowed_ptr(k, current(k), 1 << 1)
        yield from set_cpus_allowed_ptr(k, current(k), 0b111)
        out["pid"] = spawn_here(k, child, "child")
        out["cpu"] = task_cpu(k, k.task(kern.current_addr(k.this_cpu)))
        while out["pid"] not in placed:
            yield from schedule(k)

    out = run_in_thread(kern, parent)
    assert out["cpu"] == 1 and placed[out["pid"]] == 2


def test_set_cpus_allowed_ptr_refuses_to_move_a_bound_thread():
    kern = booted_kernel(2)
    bound = kern.percpu_threads[1]["ksoftirqd"]

    def main(k, out):
        out["other"] = yield from set_cpus_allowed_ptr(k, bound, 1 << 0)
        out["same"] = yield from set_cpus_allowed_ptr(k, bound, 1 << 1)

    out = run_in_thread(kern, main)
    assert (out["other"], out["same"]) == (-EINVAL, 0)
    assert bound.cpus_allowed == 1 << 1 and task_cpu(kern, bound) == 1


def test_a_running_task_moves_through_its_cpus_migration_thread():
    """set_cpus_allowed_ptr(current, another CPU): migration/N takes the request,
    moves us (set_task_cpu) and completes it; we wake up on the new CPU."""
    kern = booted_kernel(2)
    moves, switches = [], []
    kern.register_trace("sched_migrate_task", lambda p, dest_cpu: moves.append((p.pid, dest_cpu)))
    kern.register_trace("sched_switch", lambda prev, next: switches.append(next.comm))

    def main(k, out):
        out["pid"], out["before"] = current(k).pid, k.this_cpu
        out["ret"] = yield from set_cpus_allowed_ptr(k, current(k), 1 << (1 - k.this_cpu))
        out["after"] = k.this_cpu

    out = run_in_thread(kern, main)
    assert out["ret"] == 0 and out["after"] == 1 - out["before"]
    assert (out["pid"], out["after"]) in moves
    assert f"migration/{out['before']}".encode() in switches


def test_waking_a_queued_task_returns_0(spawn_here):
    """try_to_wake_up: a task that has set TASK_INTERRUPTIBLE but is still on its
    run queue (it has not reached schedule()) is not woken again: 0, and
    sched_wakeup says so (success=0); it goes on TASK_RUNNING."""
    kern = booted_kernel(2)
    wakeups, state = [], {}
    kern.register_trace("sched_wakeup", lambda p, success: wakeups.append((p.comm, success)))

    def about_to_sleep(k):
        yield from set_cpus_allowed_ptr(k, current(k), 1 << 1)
        set_current_state(k, TASK_INTERRUPTIBLE)
        state["task"] = current(k)
        while "woken" not in state:
            yield RELAX  # spins on CPU 1, still queued there
        state["state"] = current(k).state
        return 0

    def main(k, out):
        yield from set_cpus_allowed_ptr(k, current(k), 1 << 0)
        spawn_here(k, about_to_sleep, "sleepy")
        while "task" not in state:
            yield from schedule(k)
        out["ret"] = wake_up_process(k, state["task"])
        state["woken"] = True
        while "state" not in state:
            yield from schedule(k)

    out = run_in_thread(kern, main)
    assert out["ret"] == 0 and state["state"] == TASK_RUNNING
    assert wakeups[-1] == (b"sleepy", 0)


@pytest.mark.parametrize("profile, moved_at", [("vanilla", "at once"), ("rhel6", "wake-up")])
def test_a_sleeping_task_moves_at_once_or_at_its_wake_up(profile, moved_at, spawn_here):
    """set_cpus_allowed_ptr on a sleeping task: vanilla's migrate_task sets its CPU
    at once; RHEL 6's leaves it to the next wake-up (select_fallback_rq)."""
    kern = booted_kernel(2, profile=profile)
    moves = []
    kern.register_trace("sched_migrate_task", lambda p, dest_cpu: moves.append(p.comm))
    state = {}

    def sleeper(k):
        yield from set_cpus_allowed_ptr(k, current(k), 1 << 0)
        state["task"] = current(k)
        set_current_state(k, TASK_INTERRUPTIBLE)
        yield from schedule(k)
        state["ran_on"] = k.this_cpu
        return 0

    def main(k, out):
        spawn_here(k, sleeper, "sleeper")
        while not ("task" in state and state["task"].state):
            yield from schedule(k)
        del moves[:]
        yield from set_cpus_allowed_ptr(k, state["task"], 1 << 1)
        out["at once"] = b"sleeper" in moves
        wake_up_process(k, state["task"])
        out["wake-up"] = b"sleeper" in moves
        while "ran_on" not in state:
            yield from schedule(k)

    out = run_in_thread(kern, main)
    assert state["ran_on"] == 1
    assert out["at once"] == (moved_at == "at once") and out["wake-up"]


@pytest.mark.parametrize("seed", [None, 3])
def test_each_rq_counts_its_tasks_and_their_load(seed):
    """rq->nr_running and rq->load.weight are kept as tasks come and go: at every
    context switch of a stress run they are what a count over the tasks gives."""
    from kernel_model.sched import task_weight
    from kthreadd_emu.lifecycles import stress

    kern = booted_kernel(3, seed=seed)
    wrong, switches = [], []

    def check(prev, next):
        switches.append(1)
        for q in kern.rq:
            mine = [kern.task(a) for a in kern.on_rq if task_cpu(kern, kern.task(a)) == q.cpu]
            load = sum(task_weight(p) for p in mine if p.prio >= 100)
            if (q.nr_running, q.load) != (len(mine), load):
                wrong.append((q.cpu, q.nr_running, q.load, len(mine), load))

    kern.register_trace("sched_switch", check)
    stress(kern, total=50, alive=8)
    assert len(switches) > 100 and wrong == []
