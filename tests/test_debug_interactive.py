"""An interactive session through a pseudo-terminal: the prompt survives a bad
command and Ctrl-C, and `quit` leaves cleanly."""

import os
import sys
import time

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


def test_break_step_and_go_back_on_a_terminal():
    """Going back forks: the checkpoint that takes over must give the prompt back
    on the same terminal, with the registers the forward run had there."""
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "kthreadd_emu.cli", "debug", "--cpus", "3"],
                          env=env, encoding="utf-8", timeout=30)  # fmt: skip
    child.expect_exact("(kdb) ")
    child.sendline("set context off")
    child.expect_exact("(kdb) ")
    child.sendline("break ret_from_fork")
    child.expect_exact("Breakpoint 1 at 0x")
    child.expect_exact("(kdb) ")
    child.sendline("continue")
    child.expect_exact("Breakpoint 1, ")
    child.expect_exact("(kdb) ")
    child.sendline("stepi")
    child.expect_exact("(kdb) ")
    child.sendline("info registers eip esp eflags")
    child.expect(r"eip\s+(0x[0-9a-f]+).*esp\s+(0x[0-9a-f]+).*eflags\s+(0x[0-9a-f]+)")
    before = child.match.groups()
    child.expect_exact("(kdb) ")
    child.sendline("stepi")
    child.expect_exact("in schedule_tail ()")
    child.expect_exact("(kdb) ")
    child.sendline("reverse-stepi")
    child.expect_exact("in ret_from_fork ()")
    child.expect_exact("(kdb) ")
    child.sendline("info registers eip esp eflags")
    child.expect(r"eip\s+(0x[0-9a-f]+).*esp\s+(0x[0-9a-f]+).*eflags\s+(0x[0-9a-f]+)")
    assert child.match.groups() == before
    child.expect_exact("(kdb) ")
    child.sendline("frobnicate")
    child.expect_exact('Undefined command: "frobnicate"')
    child.expect_exact("(kdb) ")
    time.sleep(0.5)  # Ctrl-C is a key once the prompt is live (raw mode), see below
    child.sendcontrol("c")
    child.expect_exact("Quit")
    child.expect_exact("(kdb) ")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in child.before


def test_ctrl_d_ends_the_session_as_gdb_does():
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "kthreadd_emu.cli", "debug", "--cpus", "1"],
                          env=env, encoding="utf-8", timeout=20)  # fmt: skip
    child.expect_exact("(kdb) ")
    # A ^D typed before prompt_toolkit has put the terminal in raw mode is the
    # tty's end-of-file, not a key: type it as a person would, after the prompt.
    time.sleep(0.5)
    child.sendcontrol("d")
    child.expect_exact("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
