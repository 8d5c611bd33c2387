"""kthreadd-emu ps: the booted machine lists like procps's ``ps auxf`` and like
the seed's RHEL 6 machine."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from debugger.ps import task_state_char
from kernel_model.consts import (
    __TASK_STOPPED,
    __TASK_TRACED,
    EXIT_DEAD,
    EXIT_ZOMBIE,
    PF_FORKNOEXEC,
    PF_FREEZER_NOSIG,
    PF_KTHREAD,
    PF_NOFREEZE,
    PF_THREAD_BOUND,
    TASK_DEAD,
    TASK_INTERRUPTIBLE,
    TASK_UNINTERRUPTIBLE,
    TASK_WAKEKILL,
)
from kthreadd_emu.cli import main

# The seed's `ps auxf` rows (RHEL 6, 2.6.32, 3 CPUs); the file says where they come from.
SEED_PS = Path(__file__).parent / "data" / "seed_ps_auxf.txt"


def ps(capsys, *args):
    assert main(["ps", *args]) == 0
    return capsys.readouterr().out.splitlines()


def columns(line):
    """Every column but START and TIME (wall-clock facts of the seed's machine)."""
    head, command = line[:65], line[65:]
    fields = head.split()
    return fields[:8] + [command]


def seed_listing():
    """The header and the rows of the seed's listing (comment lines dropped)."""
    return [line for line in SEED_PS.read_text().splitlines() if not line.startswith("#")]


def test_ps_cpus_3_matches_the_seed(capsys):
    out = ps(capsys, "--cpus", "3")
    header, *expected = seed_listing()
    assert out[0] == header
    assert len(expected) == 10
    assert [columns(line) for line in out[1:11]] == [columns(line) for line in expected]
    # Column positions are procps's, to the character.
    assert [line[:51] for line in out[1:11]] == [line[:51] for line in expected]


def test_kthreadd_tree_first_then_init(capsys):
    out = ps(capsys, "--cpus", "2")
    assert out[1].endswith(" 0:00 [kthreadd]")
    assert all(" \\_ [" in line for line in out[2:-1])
    assert out[-1].endswith(" 0:00 [init]")


@pytest.mark.parametrize("ncpus", [1, 2, 5])
def test_per_cpu_threads_bound_to_their_cpu(capsys, ncpus):
    procs = json.loads("\n".join(ps(capsys, "--cpus", str(ncpus), "--json")))
    per_cpu = [p for p in procs if "/" in p["comm"]]
    names = sorted(p["comm"] for p in per_cpu)
    kinds = ("migration", "migration", "ksoftirqd", "watchdog", "events")
    expected = sorted(f"{n}/{c}" for c in range(ncpus) for n in kinds)
    assert names == expected
    for p in per_cpu:
        cpu = int(p["comm"].split("/")[1])
        assert p["cpus_allowed"] == 1 << cpu and p["cpu"] == cpu
        assert p["policy"] == (
            "SCHED_FIFO" if p["comm"].split("/")[0] in ("migration", "watchdog") else "SCHED_NORMAL"
        )
        assert p["stat"] == "S" and p["ppid"] == 2
    assert [p["pid"] for p in procs] == sorted(p["pid"] for p in procs)


def test_vanilla_profile_order(capsys):
    procs = json.loads("\n".join(ps(capsys, "--cpus", "2", "--profile", "vanilla", "--json")))
    assert [p["comm"] for p in procs] == [
        "init", "kthreadd", "migration/0", "ksoftirqd/0", "watchdog/0",
        "migration/1", "ksoftirqd/1", "watchdog/1", "events/0", "events/1",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "args, message",
    [
        (["--profile", "suse"], "unknown profile 'suse'"),
        (["--cpus", "0"], "--cpus must be between 1 and 256, not 0"),
        (["--cpus", "10000"], "--cpus must be between 1 and 256, not 10000"),
        (["--cpus", "three"], "--cpus: not a decimal or 0x-hex number: 'three'"),
    ],
)
def test_bad_machine_options(capsys, args, message):
    assert main(["ps", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("ncpus", [2, 4])
def test_per_cpu_threads_observed_only_on_their_cpu(ncpus):
    """Each per-CPU thread reads its CPU number through %fs (guest code) each time
    it runs; at boot and after being woken again it is always its own CPU."""
    from kernel_model.kernel import Kernel
    from kernel_model.sched import wake_up_process

    kern = Kernel(ncpus)
    seen = []
    kern.register_trace("percpu_thread", lambda task, cpu: seen.append((task.cpus_allowed, cpu)))
    kern.boot()
    for threads in kern.percpu_threads.values():
        for task in threads.values():
            wake_up_process(kern, task)
    kern.run()
    assert len(seen) == 2 * 5 * ncpus
    assert all(allowed == 1 << cpu for allowed, cpu in seen)
    assert {cpu for _, cpu in seen} == set(range(ncpus))


def test_nice_shows_in_stat():
    """pr_stat(): '<' for a negative nice, 'N' for a positive one."""
    from debugger.ps import snapshot
    from kernel_model.sched import set_user_nice
    from kthreadd_emu.scenario import booted_kernel

    kern = booted_kernel(1)
    set_user_nice(kern, kern.task(kern.data.kthreadd_task), -5)
    set_user_nice(kern, kern.percpu_threads[0]["ksoftirqd"], 19)
    stats = {p.comm: (p.stat, p.nice) for p in snapshot(kern)}
    assert stats["kthreadd"] == ("S<", -5) and stats["ksoftirqd/0"] == ("SN", 19)


@pytest.mark.parametrize(
    "state, exit_state, letter",
    [
        (0, 0, "R"),
        (TASK_INTERRUPTIBLE, 0, "S"),
        (TASK_UNINTERRUPTIBLE, 0, "D"),
        (TASK_WAKEKILL | TASK_UNINTERRUPTIBLE, 0, "D"),  # TASK_KILLABLE
        (TASK_WAKEKILL | __TASK_STOPPED, 0, "T"),  # TASK_STOPPED
        (TASK_WAKEKILL | __TASK_TRACED, 0, "T"),  # TASK_TRACED: 2.6.32 has no "t"
        (__TASK_TRACED, 0, "T"),
        (TASK_DEAD, EXIT_ZOMBIE, "Z"),
        (TASK_DEAD, EXIT_DEAD, "X"),
    ],
)
def test_stat_letter_is_2_6_32s_task_state_array(state, exit_state, letter):
    """fs/proc/array.c get_task_state(): the highest reported bit picks the letter."""
    assert task_state_char(SimpleNamespace(state=state, exit_state=exit_state)) == letter


def test_per_cpu_threads_are_bound_whatever_the_interleaving(capsys):
    """kthread_bind() waits (wait_task_inactive) until the new thread has left its
    CPU, however the CPUs interleave; it used to give up about one boot in 30."""
    unbound = []
    for seed in range(40):
        procs = json.loads("\n".join(ps(capsys, "--cpus", "3", "--seed", str(seed), "--json")))
        for p in procs:
            if "/" in p["comm"]:
                cpu = int(p["comm"].split("/")[1])
                if p["cpus_allowed"] != 1 << cpu or not p["flags"] & PF_THREAD_BOUND:
                    unbound.append((seed, p["comm"], p["cpus_allowed"]))
    assert unbound == []


@pytest.mark.parametrize("profile", ["rhel6", "vanilla"])
def test_kthreadd_and_its_children_are_nofreeze_and_freezer_nosig(capsys, profile):
    """kthreadd sets PF_NOFREEZE | PF_FREEZER_NOSIG for its children to inherit
    (copy_flags keeps them): every bound kthread shows 0x84208040, as
    /proc/PID/stat does on 2.6.32."""
    procs = json.loads("\n".join(ps(capsys, "--cpus", "2", "--profile", profile, "--json")))
    flags = {p["pid"]: p["flags"] for p in procs}
    kthreadd = PF_KTHREAD | PF_FORKNOEXEC | PF_NOFREEZE | PF_FREEZER_NOSIG
    assert flags.pop(2) == kthreadd == 0x80208040
    assert flags.pop(1) == PF_KTHREAD | PF_FORKNOEXEC  # init: not one of kthreadd's
    assert set(flags.values()) == {kthreadd | PF_THREAD_BOUND}


def test_a_long_name_is_cut_to_15_bytes_and_a_nul():
    """set_task_comm and kthread_create write at most TASK_COMM_LEN - 1 bytes:
    comm stays a C string, as ps shows it."""
    from debugger.ps import snapshot
    from kernel_model.kthread import kthread_create, kthread_stop
    from kthreadd_emu.scenario import booted_kernel, run_in_thread

    kern = booted_kernel(1)
    name = "a-thread-with-a-long-name"

    def main(k, out):
        task = k.task((yield from kthread_create(k, k.demo.symbols["answer"], 0, "%s", name)))
        out["kthread"] = bytes(k.mem.read(task.addr + task.OFFSETS["comm"], 16))
        out["comms"] = {p.pid: p.comm for p in snapshot(k)}
        yield from kthread_stop(k, task)

    out = run_in_thread(kern, main, name=name)
    assert out["kthread"] == name[:15].encode() + b"\0"
    # The test's thread (set_task_comm) and the kthread (kthread_create).
    assert list(out["comms"].values()).count(name[:15]) == 2
