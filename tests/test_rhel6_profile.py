"""The rhel6 profile runs RHEL 6.3's code (2.6.32-279) where it differs from
vanilla 2.6.32: init_idle keeps prio 120; kthread_bind does not set_task_cpu
(the thread moves at its CPU_ONLINE wake-up, select_fallback_rq); cpu_stop binds
at CPU_ONLINE; watchdog/N is created at CPU_ONLINE (the boot CPU's by
lockup_detector_init from kernel_init); rest_init completes kthreadd_done.
The seed's listing does not change (tests/test_ps.py)."""

import os
import re
import subprocess
import sys

import pytest
from ftrace_text import parse

from kernel_model.kernel import Kernel

PROFILES = ["rhel6", "vanilla"]


def debug(tmp_path, profile, *commands):
    script = tmp_path / "cmds.gdb"
    script.write_text("set context off\n" + "\n".join(commands) + "\n")
    argv = [sys.executable, "-m", "kthreadd_emu.cli", "debug", "--cpus", "2", "--profile", profile]
    proc = subprocess.run([*argv, "-x", str(script), "--batch"], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return re.findall(r"^\$\d+ = (.*)$", proc.stdout, re.M)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the debugger forks its checkpoints")
@pytest.mark.parametrize("profile, prio", [("rhel6", "120"), ("vanilla", "140")])
def test_swapper_init_and_kthreadd_prio(tmp_path, profile, prio):
    """Vanilla's init_idle sets prio = MAX_PRIO, and init and kthreadd inherit
    it (sched_fork: the parent's normal_prio); RHEL 6's does not."""
    values = debug(tmp_path, profile, "continue", "p task(0)->prio", "p task(1)->prio",
                   "p task(2)->prio", "p task(3)->prio")  # fmt: skip
    assert values == [prio, prio, prio, "0"]  # migration/0 is SCHED_FIFO 99


def recorded(cli, tmp_path, profile):
    path = tmp_path / f"{profile}.txt"
    status, _, err = cli("record", "--cpus", 3, "--profile", profile, "-o", path)
    assert status == 0, err
    return [(line.event, line.fields) for line in parse(path.read_text())]


@pytest.mark.parametrize("profile", PROFILES)
def test_a_bound_thread_moves_at_bind_or_at_its_wake_up(cli, tmp_path, profile):
    events = recorded(cli, tmp_path, profile)
    # smp_init's threads (events/N are bound and woken at once by either kernel).
    moves = [i for i, (e, f) in enumerate(events) if e == "sched_migrate_task"
             and f["comm"].split("/")[0] in ("migration", "ksoftirqd", "watchdog")
             and f["orig_cpu"] != f["dest_cpu"]]  # fmt: skip
    assert moves
    for i in moves:
        woken = (
            events[i + 1][0] == "sched_wakeup" and events[i + 1][1]["pid"] == events[i][1]["pid"]
        )
        # RHEL 6: select_fallback_rq at the wake-up; vanilla: kthread_bind's set_task_cpu.
        assert woken == (profile == "rhel6"), events[i]


@pytest.mark.parametrize(
    "profile, watchdog_pids", [("rhel6", (6, 10, 14)), ("vanilla", (5, 8, 11))]
)
def test_watchdog_is_created_when_its_cpu_is_online(cli, tmp_path, profile, watchdog_pids):
    """RHEL 6 creates watchdog/N at CPU_ONLINE (after N's first thread is woken
    there); vanilla at CPU_UP_PREPARE, before.  (watchdog/0 comes after the
    early initcalls either way: pid 6 and 5.)"""
    events = recorded(cli, tmp_path, profile)
    for cpu, pid in list(enumerate(watchdog_pids))[1:]:
        fork = next(i for i, (e, f) in enumerate(events)
                    if e == "sched_process_fork" and f["child_pid"] == str(pid))  # fmt: skip
        first_online_wake = next(i for i, (e, f) in enumerate(events) if e == "sched_wakeup"
                                 and f["comm"] == f"migration/{cpu}")  # fmt: skip
        assert (fork > first_online_wake) == (profile == "rhel6"), (cpu, pid)


BINDS = {  # smp_init's kthread_binds for CPU N: (thread, is N online yet)
    "rhel6": [("migration", False), ("ksoftirqd", False), ("migration", True), ("watchdog", True)],
    "vanilla": [("migration", False), ("ksoftirqd", False), ("watchdog", False)],
}


@pytest.mark.parametrize("profile", PROFILES)
def test_which_threads_are_bound_once_their_cpu_is_online(profile):
    """migration_call and ksoftirqd bind at CPU_UP_PREPARE; RHEL 6's cpu_stop (the
    second migration/N) and watchdog bind at CPU_ONLINE."""
    kern = Kernel(3)
    binds = []

    def waited(p):  # sched_wait_task: kthread_bind's wait_task_inactive
        name, cpu = p.comm.decode().split("/")
        binds.append((int(cpu), name, bool(kern.cpu_notifiers.online >> int(cpu) & 1)))

    kern.register_trace("sched_wait_task", waited)
    kern.boot(profile)
    for cpu in (1, 2):
        mine = [(name, online) for c, name, online in binds if c == cpu and name != "events"]
        assert mine == BINDS[profile]


@pytest.mark.parametrize("profile, completions", [("rhel6", 1), ("vanilla", 0)])
def test_kthreadd_done(profile, completions):
    kern = Kernel(2)
    done = []
    kern.register_trace(
        "complete", lambda x: done.append(x) if x.addr == kern.data.kthreadd_done.addr else None
    )
    kern.boot(profile)
    assert len(done) == completions and kern.data.kthreadd_done.done == 0
