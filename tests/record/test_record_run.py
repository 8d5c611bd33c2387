"""kthreadd-emu record --load FILE.S --run LINE: the events of one assembly test's run."""

import json
import re
from pathlib import Path

import pytest
from ftrace_text import parse

from kthreadd_emu.cli import main

SOURCE = """\
	.globl echo
echo:
	movl %eax, %ecx
	ret
bad:	ud2
"""
# The assembly tests' own files, for their spin, sleep_forever, recurse and poll routines.
LIMITS = Path(__file__).parent.parent / "asm" / "limits.S"
KTHREAD_STOP = Path(__file__).parent.parent / "asm" / "kthread_stop.S"


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "echo.S"
    path.write_text(SOURCE)
    return path


def record(capsys, *argv):
    code = main(["record", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_kthread_run_line_is_recorded(source, tmp_path, capsys):
    out_file = tmp_path / "run.txt"
    code, out, err = record(
        capsys, "--load", str(source), "--run", "kthread echo arg=42", "-o", str(out_file)
    )
    assert code == 0, err
    assert "of the run (exit code 42)" in out
    text = out_file.read_text()
    assert "kthread_create: create=" in text and "threadfn=echo data=0000002a" in text
    assert ": kthreadd: dequeue " in text
    forks = [line for line in text.splitlines() if ": sched_process_fork: " in line]
    assert any("parent kthreadd:2 " in line for line in forks)
    assert ": sched_process_exit: task asmtest:" in text
    assert "sched_process_fork: parent swapper:0 " in text  # not the boot:
    assert "migration_thread" not in text  # the boot's requests are not in it


def test_an_oops_is_an_event(source, tmp_path, capsys):
    out_file = tmp_path / "run.txt"
    code, out, _ = record(
        capsys, "--load", str(source), "--run", "kthread bad", "-o", str(out_file)
    )
    assert code == 0 and "oopsed" in out
    oops = [line for line in out_file.read_text().splitlines() if ": oops_end: " in line]
    assert len(oops) == 1 and "oops_end: ip=bad+0x0/0x2 kind=invalid_opcode" in oops[0]


@pytest.mark.parametrize(
    "run_line, message",
    [
        ("kthread nosuch", "unknown routine 'nosuch'"),
        ("fly echo", "expected 'run MODE ROUTINE"),
    ],
)
def test_a_bad_run_line_is_one_line(source, tmp_path, capsys, run_line, message):
    out_file = tmp_path / "run.txt"
    code, out, err = record(capsys, "--load", str(source), "--run", run_line, "-o", str(out_file))
    assert code == 1 and out == ""
    assert err.startswith("kthreadd-emu: record: --run: ") and message in err
    assert len(err.splitlines()) == 1 and not out_file.exists()


def test_load_needs_run(source, tmp_path, capsys):
    code, _, err = record(capsys, "--load", str(source), "-o", str(tmp_path / "x.txt"))
    assert code == 1 and err == "kthreadd-emu: record: --load FILE and --run LINE go together\n"


def test_a_spin_lasts_its_instructions_and_the_trace_ends_with_the_run(tmp_path, capsys):
    """1.5 M instructions are 1.5 ms on the stated clock, though the spinning thread
    fires no event after it was switched in: the trace ends where the run did."""
    out_file = tmp_path / "spin.json"
    run = ["--load", str(LIMITS), "--run", "kthread spin", "--budget", "1500000"]
    code, out, _ = record(capsys, *run, "--format", "perfetto", "-o", str(out_file))
    assert code == 0 and "soft lockup" in out
    slices = [e for e in json.loads(out_file.read_text())["traceEvents"] if e["ph"] == "X"]
    spin = max((e for e in slices if e["name"].startswith("asmtest ")), key=lambda e: e["dur"])
    # microseconds: the budget counts from the thread's last schedule(), a few
    # instructions before its switch-in
    assert 1490 <= spin["dur"] < 1600
    end = max(e["ts"] + e["dur"] for e in slices)
    assert end == pytest.approx(spin["ts"] + spin["dur"])
    over = re.search(r" over (\d+\.\d+) ms on 3 CPUs ", out)
    assert over and 1.49 <= float(over[1]) < 1.6 and abs(float(over[1]) * 1000 - end) < 1


@pytest.mark.parametrize(
    "routine, outcome",
    [
        ("sleep_forever", "(the thread never exited: every CPU went idle with it in state 1)"),
        ("recurse", "(Thread overran stack, or stack corrupted: the write at "),
    ],
)
def test_the_summary_says_what_became_of_the_thread(tmp_path, capsys, routine, outcome):
    code, out, _ = record(capsys, "--cpus", "1", "--load", str(LIMITS), "--run",
                          f"kthread {routine}", "-o", str(tmp_path / "t.txt"))  # fmt: skip
    assert code == 0 and outcome in out
    assert "None" not in out and " on 1 CPU (" in out


def test_kthread_stop_and_do_wait_fire_their_tracepoints(source, tmp_path, capsys):
    """kthread_stop(): sched_kthread_stop, then sched_kthread_stop_ret with threadfn's
    result; do_wait() (a kernel_thread run line reaps its child): sched_process_wait."""
    stop, wait = tmp_path / "stop.txt", tmp_path / "wait.txt"
    assert record(capsys, "--load", str(KTHREAD_STOP), "--run",
                  "kthread poll_until_stopped stop=running", "-o", str(stop))[0] == 0  # fmt: skip
    lines = parse(stop.read_text())
    stops = [line for line in lines if line.event.startswith("sched_kthread_stop")]
    assert [line.event for line in stops] == ["sched_kthread_stop", "sched_kthread_stop_ret"]
    assert stops[0].fields["comm"] == "asmtest" and stops[1].fields == {"ret": "-4"}
    assert record(capsys, "--load", str(source), "--run", "kernel_thread echo",
                  "-o", str(wait))[0] == 0  # fmt: skip
    lines = parse(wait.read_text())
    forks = [line.fields for line in lines if line.event == "sched_process_fork"]
    child = next(f["child_pid"] for f in forks if f["parent_comm"] == "asmtest")
    waits = [line for line in lines if line.event == "sched_process_wait"]
    assert waits and waits[0].fields["pid"] == child and waits[0].fields["comm"] == "asmtest"


@pytest.mark.parametrize(
    "option, message",
    [
        (["--seed=-1"], "record: --seed must be between 0 and 4294967295, not -1"),
        (["--seed=4294967296"], "record: --seed must be between 0 and 4294967295, not 4294967296"),
        (["--cpus", "0"], "record: --cpus must be between 1 and 256, not 0"),
        (["--budget", "0", "--load", "x.S", "--run", "kthread echo"],
         "record: --budget must be between 1 and 100000000, not 0"),
    ],
)  # fmt: skip
def test_numbers_are_refused_as_every_command_refuses_them(tmp_path, capsys, option, message):
    out_file = tmp_path / "t.txt"
    code, out, err = record(capsys, *option, "-o", str(out_file))
    assert code == 1 and out == "" and err == f"kthreadd-emu: {message}\n"
    assert not out_file.exists()
