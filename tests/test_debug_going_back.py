"""Going back in `kthreadd-emu debug`, as a user drives it (own processes: the
session forks its checkpoints and hands itself over to them): the history is
the whole session (a breakpoint or watchpoint hit millions of instructions
back, the call a long function was entered by); going back again and again
adds no process, and none outlives the session; after going back the
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

from debugger.timeline import DENSE

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
    return proc, then(proc, ["set context off", *commands])


def then(proc, commands) -> str:
    """Send ``commands``; what the session printed until READY after them."""
    proc.stdin.write("\n".join(commands) + "\necho READY\\n\n")
    proc.stdin.flush()
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("READY"):
            return "".join(seen)
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
def test_going_back_again_and_again_adds_no_process_and_none_outlives_the_session(tmp_path):
    """Each trip back used to leave a process waiting to pass on the exit status:
    now only the first one (the root) waits, whatever the number of trips."""
    proc, out = stopped_session(tmp_path, ["continue"])
    try:
        assert "BUG: soft lockup" in out  # 1.5M instructions ran
        after_run = descendants(proc.pid)
        assert after_run  # the checkpoints
        back = 8
        out = then(proc, ["reverse-stepi"] * back)
        assert len(re.findall(r"^0x[0-9a-f]+ in spin \(\)$", out, re.M)) == back
        copies = descendants(proc.pid)
        # The woken session, its fresh copy and one taken short of its target.
        assert len(copies) <= len(after_run) + 3, (after_run, copies)
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        proc.wait(10)
    assert gone(after_run + copies) == []


LOOP = """\
\t.globl loop
loop:\tpushl $0x1234
\taddl $4, %esp
\tmovl $1500000, %ecx
1:\tdecl %ecx
\tjnz 1b
after:\tnop
\tret
"""


def test_reverse_continue_finds_a_breakpoint_hit_millions_of_instructions_back(tmp_path):
    """3M instructions after the hit (the old history kept 1M): back to it, its
    registers as they were; forward again, the same run."""
    source = tmp_path / "loop.S"
    source.write_text(LOOP)
    status, out, err = kemu(tmp_path, "debug", "--load", str(source),
                            "--run", "kthread loop budget=5000000",
                            commands=["break after", "continue", "break loop",
                                      "reverse-continue", "info registers ecx eip",
                                      "continue", "info registers ecx eip"])  # fmt: skip
    assert status == 0, err
    back, forward = out.split("Breakpoint 2, ", 1)[1].split("Breakpoint 1, ", 1)
    assert back.startswith("0x") and "in loop ()" in back
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <loop>$", back, re.M)
    assert "in after ()" in forward
    assert re.search(r"^ecx\s+0x0\s", forward, re.M)


def test_reverse_continue_finds_the_store_a_watchpoint_watches(tmp_path):
    """The pushl that wrote the watched slot, 3M instructions back: stopped right
    after it, as the forward run would have stopped."""
    source = tmp_path / "loop.S"
    source.write_text(LOOP)
    status, out, err = kemu(tmp_path, "debug", "--load", str(source),
                            "--run", "kthread loop budget=5000000",
                            commands=["break after", "continue", "watch *(int *)($esp - 4)",
                                      "reverse-continue", "info registers eip"])  # fmt: skip
    assert status == 0, err
    assert "Hardware watchpoint 2: *0x" in out
    assert re.search(r"^New value = 0x1234$", out, re.M)
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <loop\+5>$", out, re.M)  # the addl


CALLS = """\
\t.globl entry
entry:\tcall work
back:\tnop
\tret
work:\tmovl $700000, %ecx
1:\tdecl %ecx
\tjnz 1b
inwork:\tnop
\tret
"""


def test_reverse_nexti_and_reverse_finish_come_back_over_a_long_call(tmp_path):
    """reverse-nexti after the call returned lands on the call (1.4M instructions
    of work run over); reverse-finish from inside work, on the same call."""
    source = tmp_path / "calls.S"
    source.write_text(CALLS)
    status, out, err = kemu(tmp_path, "debug", "--load", str(source),
                            "--run", "kthread entry budget=5000000",
                            commands=["break back", "continue", "reverse-nexti",
                                      "info registers eip", "delete", "break inwork",
                                      "continue", "reverse-finish",
                                      "info registers eip"])  # fmt: skip
    assert status == 0, err
    eips = re.findall(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <(\w+)>$", out, re.M)
    assert eips == ["entry", "entry"], out


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


def test_back_half_a_million_then_reverse_continue_finds_the_last_hit(tmp_path):
    """The checkpoint woken half a million instructions back knew older ones that
    the session has dropped since (thinned): it must not use them."""
    spin = tmp_path / "spin.S"
    spin.write_text(SPIN)
    status, out, err = kemu(tmp_path, "debug", "--load", str(spin),
                            "--run", "kthread spin budget=2000000",
                            commands=["continue", f"reverse-stepi {DENSE // 2}", "break spin",
                                      "reverse-continue", "info registers eip"])  # fmt: skip
    assert status == 0, err
    assert err == ""
    assert re.search(r"^Breakpoint 1, 0x[0-9a-f]+ in spin \(\)$", out, re.M)
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <spin>$", out, re.M)


MID_LOOP = (
    "\t.globl loop\nloop:\tmovl $1500000, %ecx\n1:\tdecl %ecx\nmid:\tjnz 1b\nafter:\tnop\n\tret\n"
)


def test_reverse_continue_goes_to_a_hit_it_saw_and_scans_for_a_breakpoint_set_later(tmp_path):
    """The loop's start was hit on the way (reverse-continue goes there from the
    hits log); a breakpoint set afterwards inside the loop was run over 1.5M
    times the log never saw: reverse-continue finds its last hit (ecx 0)."""
    source = tmp_path / "loop.S"
    source.write_text(MID_LOOP)
    status, out, err = kemu(tmp_path, "debug", "--load", str(source),
                            "--run", "kthread loop budget=5000000",
                            commands=["break loop", "break after", "continue", "continue",
                                      "reverse-continue", "info registers eip",
                                      "continue", "break mid", "reverse-continue",
                                      "info registers ecx eip"])  # fmt: skip
    assert status == 0, err
    eips = re.findall(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <(\w+)>$", out, re.M)
    assert eips == ["loop", "mid"], out
    assert re.search(r"^Breakpoint 3, 0x[0-9a-f]+ in mid \(\)$", out, re.M)
    assert re.findall(r"^ecx\s+(0x[0-9a-f]+)", out, re.M) == ["0x0"]
