"""The tracepoints 2.6.32 has beside the scheduler's main ones, fired where the
kernel fires them: sched_wait_task in wait_task_inactive (so once per
kthread_bind), sched_kthread_stop and sched_kthread_stop_ret around
kthread_stop, sched_process_wait at the start of do_wait."""

import pytest

from kernel_model.consts import CLONE_FILES, CLONE_FS, EINTR, SIGCHLD
from kernel_model.exit import do_wait
from kernel_model.kernel import Kernel
from kernel_model.kthread import kthread_create, kthread_run, kthread_stop
from kernel_model.process_32 import kernel_thread
from kernel_model.sched import kthread_bind, schedule
from kthreadd_emu.scenario import booted_kernel, run_in_thread


@pytest.mark.parametrize("profile, per_cpu", [("rhel6", 5), ("vanilla", 4)])
def test_sched_wait_task_once_per_kthread_bind_of_the_boot(profile, per_cpu):
    kern = Kernel(3)
    waited, bound = [], []
    kern.register_trace("sched_wait_task", lambda p: waited.append((p.addr, p.state)))
    kern.boot(profile)
    for threads in kern.percpu_threads.values():
        bound += [t.addr for t in threads.values()]
    assert sorted(a for a, _ in waited) == sorted(bound) and len(bound) == per_cpu * 3
    # Each time the thread was parked, off its CPU, in kthread()'s schedule().
    assert {state for _, state in waited} == {2}


def test_kthread_stop_is_traced_on_both_sides():
    kern = booted_kernel(2)
    seen = []
    kern.register_trace("sched_kthread_stop", lambda t: seen.append(("stop", t.addr)))
    kern.register_trace("sched_kthread_stop_ret", lambda ret: seen.append(("ret", ret)))
    kern.register_trace("sched_process_exit", lambda p: seen.append(("exit", p.addr)))

    def main(k, out):
        out["task"] = yield from kthread_create(k, k.demo.symbols["answer"], 3, "never")
        out["ret"] = yield from kthread_stop(k, k.task(out["task"]))

    out = run_in_thread(kern, main)
    assert out["ret"] == -EINTR
    # (then the test's own thread exits)
    assert seen[:3] == [("stop", out["task"]), ("exit", out["task"]), ("ret", -EINTR)]


def test_kthread_stop_of_a_thread_that_exited_returns_its_exit_code():
    """The kernel has no check: vfork_done is NULL, so nothing to wait for."""
    kern = booted_kernel(2)
    rets, codes = [], {}
    kern.register_trace("sched_kthread_stop_ret", lambda ret: rets.append(ret))
    kern.register_trace("sched_process_exit", lambda p: codes.setdefault(p.addr, p.exit_code))

    def main(k, out):
        task = k.task((yield from kthread_run(k, k.demo.symbols["answer"], 3, "early")))
        task.usage += 1  # get_task_struct: ours to look at after it is gone
        while k.task_alive(task):
            yield from schedule(k)
        out["ret"] = yield from kthread_stop(k, task)
        task.usage -= 1

        out["task"] = task.addr

    out = run_in_thread(kern, main)
    assert out["ret"] == rets[-1] == codes[out["task"]] != -EINTR


def test_sched_process_wait_names_the_pid_waited_for(demo, boot):
    kern, image = demo
    waits = []
    kern.register_trace("sched_process_wait", lambda pid: waits.append(pid))

    def main(k, out):
        pid = kernel_thread(k, image.symbols["answer"], 1, CLONE_FS | CLONE_FILES | SIGCHLD)
        out["pid"] = pid
        out["code"] = yield from do_wait(k, pid)
        out["none"] = yield from do_wait(k, 12345)

    out = boot(kern, main)
    assert out["code"] == (out["pid"], 2) and out["none"][0] < 0
    # find_get_pid() of a pid nobody has is NULL: pid_nr(NULL) is 0.
    assert waits == [out["pid"], 0]


def test_a_bind_that_waits_for_a_running_thread_traces_each_look(spawn_here):
    """wait_task_inactive traces each time it looks under the run queue lock; a
    thread still queued when it looks makes it look again."""
    kern = booted_kernel(2)
    looks = []
    kern.register_trace("sched_wait_task", lambda p: looks.append(p.addr))

    def main(k, out):
        task = k.task((yield from kthread_create(k, k.demo.symbols["answer"], 0, "bindme")))
        yield from kthread_bind(k, task, 1)
        out["task"] = task.addr
        yield from kthread_stop(k, task)

    out = run_in_thread(kern, main)
    assert looks.count(out["task"]) == 1


def test_worker_and_stopper_threads_get_their_struct_as_data():
    """worker_thread(cwq) and cpu_stopper_thread(stopper) are passed a pointer to
    what they serve, which names its thread; the others get their CPU number."""
    from kernel_model.percpu import per_cpu

    kern = Kernel(2)
    data = {}

    def requested(create):
        name = kern.symbols.describe(create.threadfn).split("+")[0]
        data.setdefault(name, []).append(create.data)

    kern.register_trace("kthread_create", requested)
    kern.boot("rhel6")
    areas = [per_cpu(kern, cpu) for cpu in (0, 1)]
    assert data["worker_thread"] == [a.keventd_cwq.addr for a in areas]
    assert data["cpu_stopper_thread"] == [a.cpu_stopper.addr for a in areas]
    assert data["ksoftirqd"] == data["migration_thread"] == [0, 1]
    for cpu, area in enumerate(areas):
        threads = kern.percpu_threads[cpu]
        assert area.keventd_cwq.thread == threads["worker_thread"].addr
        assert area.cpu_stopper.thread == threads["cpu_stopper_thread"].addr
