"""Completions on the booted machine (kernel/sched.c, 2.6.32): complete() counts
and wakes the first waiter; a waiter sleeps uninterruptibly until a completion is
there for it, and takes exactly one."""

from kernel_model.completion import complete, init_completion, wait_for_completion
from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD, TASK_UNINTERRUPTIBLE
from kernel_model.headers import completion
from kernel_model.list import list_empty
from kernel_model.process_32 import kernel_thread
from kernel_model.sched import schedule, wake_up_process
from kernel_model.task import find_task_by_pid
from kthreadd_emu.scenario import run_in_thread

FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD
SETTLE = 200  # schedule() calls a test gives the other CPUs to get somewhere


def start_waiter(k, x, log, tag):
    """A kernel thread that waits for ``x`` once, then appends ``tag`` to ``log`` (it
    hands itself to kthreadd, as python_thread does on a booted machine: wait for the
    log, not with do_wait)."""

    def body(kern):
        yield from wait_for_completion(kern, x)
        log.append(tag)
        return 0

    token = max(k.spawned, default=0) + 1
    k.spawned[token] = (tag, body)
    return find_task_by_pid(k, kernel_thread(k, k.symbols["python_thread"], token, FLAGS))


def settle(k, until):
    """Let the other CPUs run until ``until()`` holds (or SETTLE rounds pass)."""
    for _ in range(SETTLE):
        if until():
            return True
        yield from schedule(k)
    return until()


def asleep(task):
    return lambda: task.state == TASK_UNINTERRUPTIBLE


def test_each_complete_lets_one_wait_through(kernel):
    def main(k, out):
        log = []
        with k.runtime.stack_local(completion) as x:
            init_completion(k, x)
            complete(k, x)
            complete(k, x)
            yield from wait_for_completion(k, x)
            yield from wait_for_completion(k, x)
            out["left"] = x.done
            third = start_waiter(k, x, log, "third")
            out["third_sleeps"] = yield from settle(k, asleep(third))
            out["log_before"] = list(log)
            complete(k, x)
            yield from settle(k, lambda: "third" in log)
            out["log_after"], out["queue_empty"] = log, list_empty(k.mem, x.wait.task_list.addr)

    out = run_in_thread(kernel, main)
    assert out["left"] == 0 and out["third_sleeps"]
    assert out["log_before"] == [] and out["log_after"] == ["third"]
    assert out["queue_empty"]


def test_complete_wakes_the_first_waiter_only(kernel):
    def main(k, out):
        log = []
        with k.runtime.stack_local(completion) as x:
            init_completion(k, x)
            first = start_waiter(k, x, log, "first")
            out["first_sleeps"] = yield from settle(k, asleep(first))
            second = start_waiter(k, x, log, "second")
            out["second_sleeps"] = yield from settle(k, asleep(second))
            complete(k, x)
            yield from settle(k, lambda: "first" in log)
            out["after_one"] = (list(log), second.state)
            complete(k, x)
            yield from settle(k, lambda: "second" in log)
            out["log"], out["queue_empty"] = log, list_empty(k.mem, x.wait.task_list.addr)

    out = run_in_thread(kernel, main)
    assert out["first_sleeps"] and out["second_sleeps"]
    assert out["after_one"] == (["first"], TASK_UNINTERRUPTIBLE)
    assert out["log"] == ["first", "second"] and out["queue_empty"]


def test_a_waiter_woken_without_complete_sleeps_again(kernel):
    def main(k, out):
        log = []
        with k.runtime.stack_local(completion) as x:
            init_completion(k, x)
            waiter = start_waiter(k, x, log, "waiter")
            yield from settle(k, asleep(waiter))
            out["woken"] = wake_up_process(k, waiter)
            yield from settle(k, lambda: False)  # it runs, finds done == 0, sleeps again
            out["after_wakeup"] = (list(log), waiter.state, x.done)
            complete(k, x)
            # x lives on this stack: wait for the waiter before leaving its block
            # (it is kthreadd's child: do_wait would not wait for it).
            yield from settle(k, lambda: log)
            out["log"] = list(log)

    out = run_in_thread(kernel, main)
    assert out["woken"] and out["after_wakeup"] == ([], TASK_UNINTERRUPTIBLE, 0)
    assert out["log"] == ["waiter"]
