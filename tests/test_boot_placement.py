"""Where the boot puts its tasks, as `kthreadd-emu record` shows it: until
sched_init_smp() builds the scheduling domains, select_task_rq_fair() keeps a
forked task on the forking CPU and a woken one on its own CPU, whatever the
scheduling seed; the only moves are the per-CPU threads' to their own CPU."""

import pytest
from ftrace_text import parse

SEEDS = range(12)
# smp_init's last thread (watchdog/2): sched_init_smp() follows its CPU_ONLINE wake-up.
LAST_OF_SMP_INIT = {"rhel6": 2 + 4 * 3, "vanilla": 2 + 3 * 3}


def events(text: str):
    for line in parse(text):
        yield line.cpu, line.event, line.fields


def target(fields) -> int:
    return int(fields.get("target_cpu", fields.get("cpu")))


def own_cpu(comm: str) -> int | None:
    """N for a per-CPU thread named x/N."""
    return int(comm.rsplit("/", 1)[1]) if "/" in comm else None


def placement_faults(text: str, last: int) -> list[str]:
    """What breaks the rule until the wake-up of pid ``last``."""
    faults, where = [], {}
    for cpu, event, f in events(text):
        if event == "sched_process_fork":
            where[f["child_pid"]] = cpu
        elif event == "sched_wakeup_new" and target(f) != cpu:
            faults.append(f"pid {f['pid']} forked on CPU {cpu} placed on CPU {target(f)}")
        elif event == "sched_migrate_task":
            if own_cpu(f["comm"]) != int(f["dest_cpu"]):
                faults.append(f"{f['comm']} moved to CPU {f['dest_cpu']}")
            where[f["pid"]] = int(f["dest_cpu"])
        elif event == "sched_wakeup" and f["success"] == "1":
            if f["pid"] in where and target(f) != where[f["pid"]]:
                faults.append(f"pid {f['pid']} of CPU {where[f['pid']]} woken on {target(f)}")
            if int(f["pid"]) == last:
                break
        elif event == "sched_switch":
            where[f["next_pid"]] = cpu
            if cpu and f["next_pid"] != "0" and own_cpu(f["next_comm"]) != cpu:
                faults.append(f"{f['next_comm']} ran on CPU {cpu}")
    return faults


@pytest.mark.parametrize("profile", ["rhel6", "vanilla"])
@pytest.mark.parametrize("seed", SEEDS)
def test_no_balancing_before_sched_init_smp(cli, tmp_path, seed, profile):
    path = tmp_path / "boot.txt"
    status, _, err = cli("record", "--cpus", 3, "--profile", profile, "--seed", seed, "-o", path)
    assert status == 0, err
    assert placement_faults(path.read_text(), LAST_OF_SMP_INIT[profile]) == []
