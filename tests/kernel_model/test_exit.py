"""exit_notify() as 2.6.32 does it (kernel/exit.c, kernel/signal.c): who
becomes a zombie, who reaps itself, and who adopts orphans."""

from debugger.ps import snapshot
from kernel_model.consts import CLONE_FILES, CLONE_FS, EXIT_ZOMBIE, SIGCHLD
from kernel_model.exit import do_wait
from kernel_model.kthread import kthread_run
from kernel_model.process_32 import kernel_thread
from kernel_model.sched import schedule
from kernel_model.task import find_task_by_pid
from kthreadd_emu.scenario import run_in_thread

ROUTINES = """
double:
	addl %eax, %eax
	ret
waiter:
1:	cmpl $0, go
	jne 2f
	call schedule
	jmp 1b
2:	movl $7, %eax
	ret
go:	.long 0
"""


def test_exit_signal_0_child_is_a_zombie_until_waited_for(kernel, asm):
    """Only exit_signal == -1 (or SIGCHLD to a parent ignoring it) reaps itself."""
    image = asm(ROUTINES)

    def main(k, out):
        pid = kernel_thread(k, image.symbols["double"], 5, CLONE_FS | CLONE_FILES)
        child = find_task_by_pid(k, pid)
        assert child.exit_signal == 0
        while child.exit_state == 0:
            yield from schedule(k)
        out["state"] = child.exit_state
        out["wait"] = yield from do_wait(k, pid)
        out["pid"] = pid

    out = run_in_thread(kernel, main, max_events=10_000)
    assert out["state"] == EXIT_ZOMBIE
    assert out["wait"] == (out["pid"], 10)


def test_sigchld_to_a_parent_that_ignores_it_reaps_itself(kernel, asm):
    """kthreadd ignores SIGCHLD: the threads it forks (exit_signal SIGCHLD) leave no zombie."""

    image = asm(ROUTINES)

    def main(k, out):
        task = k.task((yield from kthread_run(k, image.symbols["double"], 5, "short")))
        out["pid"] = task.pid
        assert task.exit_signal == SIGCHLD

    out = run_in_thread(kernel, main, max_events=10_000)
    kernel.run(max_events=10_000)
    assert find_task_by_pid(kernel, out["pid"]) is None


FLAGS_SIGCHLD = CLONE_FS | CLONE_FILES | SIGCHLD


def test_orphans_go_to_init_pid_1(kernel, asm):
    """kernel_init made itself init_pid_ns.child_reaper: an orphan's new parent
    is pid 1, and its zombie waits there (init does not ignore SIGCHLD)."""
    image = asm(ROUTINES)
    parent_pid = []

    def main(k, out):
        parent_pid.append(k.current(k.this_cpu).pid)
        out["child"] = kernel_thread(k, image.symbols["waiter"], 0, FLAGS_SIGCHLD)
        yield from schedule(k)

    out = run_in_thread(kernel, main, max_events=10_000)
    kernel.run(until=lambda: find_task_by_pid(kernel, parent_pid[0]) is None, max_events=10_000)
    child = find_task_by_pid(kernel, out["child"])
    init = find_task_by_pid(kernel, 1)
    assert child.real_parent == child.parent == init.addr
    kernel.mem.set_u32(image.symbols["go"], 1)
    kernel.run(max_events=10_000)
    row = next(p for p in snapshot(kernel) if p.pid == out["child"])
    assert (row.ppid, row.state) == (1, "Z")
