"""Every run ends in bounded time with a verdict, however much work the guest
makes without executing instructions (issue 17): a loop around kernel_thread
is a soft lockup (each call into a Python kernel function counts), and so is
a loop around hlt (each waits for the end of its slice); a loop that also
schedules ends at the run's bound on scheduling events, and a thread
whose children stay zombies gets the kernel's -ENOMEM when the stack pages
run out.  `kthreadd-emu asmtest` runs them in its own process, so a run that
never ends fails this test (the timeout) instead of hanging the suite."""

import subprocess
import sys
from pathlib import Path

import pytest

from kernel_model import kernel as kernel_module
from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD
from kernel_model.exit import do_wait
from kernel_model.kernel_errors import SoftLockup
from kernel_model.process_32 import kernel_thread

RUNAWAYS = Path(__file__).with_name("data") / "runaways.S"


def test_fork_bombs_and_a_hlt_loop_end_with_a_verdict():
    proc = subprocess.run(
        [sys.executable, "-m", "kthreadd_emu.cli", "asmtest", str(RUNAWAYS)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASS ") == 5


def test_a_run_without_its_own_bound_ends_at_run_events(monkeypatch, demo, tmp_path):
    """Kernel.run() as the debugger's continue calls it: a thread that only ever
    schedules is stopped at RUN_EVENTS (made small here) with a clear message."""
    monkeypatch.setattr(kernel_module, "RUN_EVENTS", 500)
    kern, _ = demo
    src = tmp_path / "forever.S"
    src.write_text("\t.globl forever\nforever:\n\tcall schedule\n\tjmp forever\n")
    fn = kern.load_asm(src).symbols["forever"]

    def main(k):
        yield from do_wait(k, kernel_thread(k, fn, 0, CLONE_FS | CLONE_FILES | SIGCHLD))

    kern.start(main)
    with pytest.raises(SoftLockup, match="did not settle within 500 events"):
        kern.run()
