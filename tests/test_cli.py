"""The command line as a person runs it: a real process, exit codes, no traceback."""

import subprocess
import sys


def run(*args):
    cmd = [sys.executable, "-m", "kthreadd_emu.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_walk_in_a_real_process():
    proc = run("walk")
    assert proc.returncode == 0 and proc.stdout.rstrip().endswith("exit code: 42 (0x2a)")


def test_no_command_is_a_usage_error():
    proc = run()
    assert proc.returncode == 1 and proc.stderr == (
        "kthreadd-emu: a command is required: "
        "walk, ps, ptregs, stack, record, debug, gdbserver, elf, asm, asmtest, stress, bench\n"
    )


def test_spin_stops_at_budget_with_exit_status_1():
    proc = run("walk", "--fn", "spin", "--budget", "20000")
    assert proc.returncode == 1
    assert "soft lockup" in proc.stderr and "Traceback" not in proc.stderr
