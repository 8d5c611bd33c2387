"""Going back in `kthreadd-emu debug`, as a user drives it (own processes: the
session forks its checkpoints and hands itself over to them): checkpoints stay
within the window and none outlives the session; after going back the
registers are the ones the stop line names; reverse-continue from an idle
machine goes back, as gdb does."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_debug_run import kemu

from debugger.timeline import INTERVAL, WINDOW

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
SPIN = "\t.globl spin\nspin:\tjmp spin\n"
IDLE = "The machine is idle: every CPU is in cpu_idle (continue waits for work)."


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (from /proc: pid -> parent)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def stopped_session(tmp_path, commands):
    """`debug` over a 1.5M-instruction spin, commands from a pipe (as a script piped
    in); returns the process once it has printed READY after them."""
    spin = tmp_path / "spin.S"
    spin.write_text(SPIN)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kthreadd_emu.cli", "debug", "--load", str(spin),
         "--run", "kthread spin budget=1500000"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    proc.stdin.write("set context off\n" + "\n".join(commands) + "\necho READY\\n\n")
    proc.stdin.flush()
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("READY"):
            return proc, "".join(seen)
    proc.wait(10)
    pytest.fail("the session ended before READY:\n" + "".join(seen))


def gone(pids, timeout=10.0) -> list[int]:
    """Those of ``pids`` still there (zombies included) after waiting up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in pids if Path(f"/proc/{p}").exists()]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


@needs_proc
@pytest.mark.parametrize("back", [0, 2], ids=["forward", "after-going-back"])
def test_checkpoints_stay_within_the_window_and_end_with_the_session(tmp_path, back):
    commands = ["continue", *["reverse-stepi"] * back]
    proc, out = stopped_session(tmp_path, commands)
    try:
        assert "BUG: soft lockup" in out  # 1.5M instructions ran: 75 checkpoint intervals
        if back:
            assert len(re.findall(r"^0x[0-9a-f]+ in spin \(\)$", out, re.M)) == back
        copies = descendants(proc.pid)
        # The window's checkpoints, a fresh copy of the one woken, and each
        # session that handed itself over and waits for the next one to end.
        assert 1 <= len(copies) <= WINDOW // INTERVAL + 2 + back, len(copies)
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        proc.wait(10)
    assert gone(copies) == []


def test_after_reverse_stepi_the_registers_are_where_the_stop_line_says(tmp_path):
    status, out, err = kemu(tmp_path, "debug", "--cpus", "3",
                            commands=["continue", "reverse-stepi", "info registers eip",
                                      "reverse-stepi", "info registers eip"])  # fmt: skip
    assert status == 0, err
    stops = re.findall(r"^(0x[0-9a-f]+) in (\w+) \(\)$", out, re.M)
    eips = re.findall(r"^eip\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+ <(\w+)[+>]", out, re.M)
    assert len(stops) == len(eips) == 2
    assert [(int(a, 16), name) for a, name in stops] == [(int(a, 16), n) for a, n in eips]
    assert all(name != "py_ret" for _, name in eips)


def test_reverse_continue_from_the_idle_machine_goes_back(tmp_path):
    status, out, err = kemu(tmp_path, "debug", "--cpus", "2",
                            commands=["continue", "break kernel_thread_helper",
                                      "reverse-continue", "info registers eip",
                                      "delete", "reverse-continue"])  # fmt: skip
    assert status == 0, err
    assert out.count(IDLE) == 1
    hit, rest = out.split("Breakpoint 1, 0xc01000a7 in kernel_thread_helper ()\n", 1)
    assert re.match(r"eip\s+0xc01000a7\s+0xc01000a7 <kernel_thread_helper>$", rest, re.M)
    # No breakpoint left: back to the start of the history, as gdb says it.
    assert "\nNo more reverse-execution history.\n" in rest


def test_reverse_continue_runs_over_a_soft_lockup_on_its_way_back(tmp_path):
    spin = tmp_path / "spin.S"
    spin.write_text("\t.globl entry\nentry:\tnop\nspin:\tjmp spin\n")
    status, out, err = kemu(tmp_path, "debug", "--load", str(spin),
                            "--run", "kthread entry budget=5000",
                            commands=["continue", "continue", "break entry",
                                      "reverse-continue", "info registers eip"])  # fmt: skip
    assert status == 0, err
    assert out.count("BUG: soft lockup - CPU#") == 2
    _, back = out.rsplit("BUG: soft lockup", 1)
    assert re.search(r"^Breakpoint 1, 0x[0-9a-f]+ in entry \(\)$", back, re.M)
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <entry>$", back, re.M)


def test_back_half_a_window_then_reverse_continue_finds_the_last_hit(tmp_path):
    """The checkpoint woken half a window back knew older ones that the session
    has ended since (they fell out of the window): it must not use them."""
    spin = tmp_path / "spin.S"
    spin.write_text(SPIN)
    status, out, err = kemu(tmp_path, "debug", "--load", str(spin),
                            "--run", "kthread spin budget=2000000",
                            commands=["continue", f"reverse-stepi {WINDOW // 2}", "break spin",
                                      "reverse-continue", "info registers eip"])  # fmt: skip
    assert status == 0, err
    assert err == ""
    assert re.search(r"^Breakpoint 1, 0x[0-9a-f]+ in spin \(\)$", out, re.M)
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <spin>$", out, re.M)
