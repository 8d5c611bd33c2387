"""An interactive session through a pseudo-terminal: the prompt survives a bad
command and Ctrl-C, and `quit` leaves cleanly."""

import os
import sys

import pytest

pexpect = pytest.importorskip("pexpect")


def test_prompt_survives_bad_command_and_ctrl_c():
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "kthreadd_emu.cli", "debug", "--cpus", "2"],
                          env=env, encoding="utf-8", timeout=20)  # fmt: skip
    child.expect_exact("(kdb) ")
    child.sendline("frobnicate")
    child.expect_exact('Undefined command: "frobnicate"')
    child.expect_exact("(kdb) ")
    child.sendcontrol("c")
    child.expect_exact("Quit")
    child.expect_exact("(kdb) ")
    child.sendline("info symbol kernel_thread_helper")
    child.expect_exact("kernel_thread_helper in section .text")
    child.expect_exact("(kdb) ")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")
