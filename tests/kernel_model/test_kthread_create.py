"""What a thread made by kthread_create gets from kthreadd and what it does not
(kernel/kthread.c, 2.6.32): SIGCHLD as exit signal, but neither kthreadd's
scheduling policy nor its CPU mask; and kthreadd serves requests in order."""

from kernel_model.consts import CLONE_FILES, CLONE_FS, SCHED_FIFO, SCHED_NORMAL, SIGCHLD
from kernel_model.kthread import kthread_create, kthread_stop
from kernel_model.process_32 import kernel_thread
from kernel_model.sched import (
    cpu_all_mask,
    sched_setscheduler_nocheck,
    schedule,
    set_cpus_allowed_ptr,
)
from kernel_model.task import find_task_by_pid
from kthreadd_emu.scenario import run_in_thread


def test_new_thread_does_not_inherit_kthreadds_policy_or_mask(kernel, asm):
    fn = asm("plain_fn:\n\tret\n").symbols["plain_fn"]

    def main(k, out):
        kthreadd = k.task(k.data.kthreadd_task)
        sched_setscheduler_nocheck(k, kthreadd, SCHED_FIFO, 50)
        yield from set_cpus_allowed_ptr(k, kthreadd, 1 << 1)
        task = k.task((yield from kthread_create(k, fn, 1, "plain")))
        out["task"] = (task.policy, task.prio, task.static_prio, task.cpus_allowed)
        out["exit_signal"] = task.exit_signal
        out["kthreadd"] = (kthreadd.policy, kthreadd.cpus_allowed)
        yield from kthread_stop(k, task)

    out = run_in_thread(kernel, main)
    policy, prio, static_prio, cpus_allowed = out["task"]
    assert out["kthreadd"] == (SCHED_FIFO, 1 << 1)  # the test did change kthreadd
    assert (policy, prio) == (SCHED_NORMAL, static_prio)
    assert cpus_allowed == cpu_all_mask(kernel)
    assert out["exit_signal"] == SIGCHLD


def test_kthreadd_serves_requests_first_come_first_served(kernel, asm):
    """Two requesters, both on CPU 0 with kthreadd: both requests are queued before
    kthreadd runs, and the first request gets the first pid."""
    fn = asm("fifo_fn:\n\tret\n").symbols["fifo_fn"]
    pids, stops = {}, []

    def requester(tag):
        def body(k):
            task = k.task((yield from kthread_create(k, fn, 1, tag)))
            pids[tag] = task.pid
            yield from kthread_stop(k, task)
            stops.append({"stopped": True})
            return 0

        return body

    def main(k, out):
        yield from set_cpus_allowed_ptr(k, k.task(k.data.kthreadd_task), 1 << 0)
        children = []
        for tag in ("first", "second"):
            token = max(k.spawned, default=0) + 1
            k.spawned[token] = (tag, requester(tag))
            pid = kernel_thread(
                k, k.symbols["python_thread"], token, CLONE_FS | CLONE_FILES | SIGCHLD
            )
            yield from set_cpus_allowed_ptr(k, find_task_by_pid(k, pid), 1 << 0)
            children.append(pid)
        # python_thread hands itself to kthreadd on a booted machine: wait for the
        # requesters' results, not with do_wait.
        for _ in range(1000):
            if len(pids) == len(children) and all(p.get("stopped") for p in stops):
                break
            yield from schedule(k)

    run_in_thread(kernel, main)
    assert sorted(pids) == ["first", "second"]
    assert pids["first"] < pids["second"]
