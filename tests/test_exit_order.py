"""The order of a kernel thread's death, as `kthreadd-emu record` shows it
(kernel/exit.c, 2.6.32): do_exit's exit_mm -> mm_release completes vfork_done,
waking the kthread_stop() waiter, before sched_process_exit; the task_struct
is freed (sched_process_free) by an RCU callback, after the dead task has
switched away and every busy CPU has passed a quiescent state."""

from ftrace_text import parse

from kernel_model.rcupdate import call_rcu
from kernel_model.runtime import RELAX
from kernel_model.sched import current, schedule, set_cpus_allowed_ptr
from kthreadd_emu.scenario import booted_kernel, run_in_thread

POLL = """
	.globl poll
poll:
	call kthread_should_stop
	testl %eax, %eax
	jnz 1f
	call schedule
	jmp poll
1:	movl $-4, %eax
	ret
"""


def recorded(cli, tmp_path, run_line: str) -> list[tuple[int, str, dict]]:
    src, out = tmp_path / "poll.S", tmp_path / "trace.txt"
    src.write_text(POLL)
    status, _, err = cli("record", "--cpus", 2, "--load", src, "--run", run_line, "-o", out)
    assert status == 0, err
    return [(line.pid, line.event, line.fields) for line in parse(out.read_text())]


def test_kthread_stop_waiter_is_woken_before_sched_process_exit(cli, tmp_path):
    events = recorded(cli, tmp_path, "kthread poll stop=running")
    forks = [f for _, e, f in events if e == "sched_process_fork"]
    # The test's own thread (it stops the kthread), then the kthread kthreadd forks.
    stopper = next(f["child_pid"] for f in forks if f["parent_pid"] == "0")
    pid = next(int(f["child_pid"]) for f in forks if f["parent_pid"] == "2")
    mine = [(e, f) for p, e, f in events if p == pid]
    exit_at = next(i for i, (e, f) in enumerate(mine) if e == "sched_process_exit")
    woken = [i for i, (e, f) in enumerate(mine) if e == "sched_wakeup" and f["pid"] == stopper]
    assert woken and woken[-1] < exit_at


def test_sched_process_free_comes_after_the_dead_task_switched_away(cli, tmp_path):
    events = recorded(cli, tmp_path, "kthread poll stop=running")
    for pid in {int(f["pid"]) for _, e, f in events if e == "sched_process_free"}:
        names = [(e, f) for _, e, f in events]
        free = next(i for i, (e, f) in enumerate(names)
                    if e == "sched_process_free" and f["pid"] == str(pid))  # fmt: skip
        last_switch = max(i for i, (e, f) in enumerate(names)
                          if e == "sched_switch" and f["prev_pid"] == str(pid))  # fmt: skip
        assert last_switch < free, pid


def test_a_grace_period_waits_for_a_busy_cpu(spawn_here):
    """A CPU spinning in the kernel (no schedule()) holds the callback up; its
    next schedule() ends the grace period."""
    kern = booted_kernel(3)
    order, state = [], {}

    def spinner(k):
        yield from set_cpus_allowed_ptr(k, current(k), 1 << 2)
        state["spinning"] = True
        while "stop" not in state:
            yield RELAX  # busy in the kernel: no quiescent state
        order.append("spinner schedules")
        yield from schedule(k)
        return 0

    def main(k, out):
        spawn_here(k, spinner, "spinner")
        while "spinning" not in state:
            yield from schedule(k)
        call_rcu(k, lambda k, arg: order.append("callback"), 0)
        for _ in range(20):
            yield from schedule(k)  # our CPU's quiescent states
        order.append("stop")
        state["stop"] = True
        while "callback" not in order:
            yield from schedule(k)

    run_in_thread(kern, main)
    assert order == ["stop", "spinner schedules", "callback"]
