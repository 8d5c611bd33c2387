"""An interactive session through a pseudo-terminal: the prompt survives a bad
command and Ctrl-C, and `quit` leaves cleanly."""

import os
import sys

import pytest

pexpect = pytest.importorskip("pexpect")
PROMPT = "(kdb) "


def session(*args: str, timeout: int = 20):
    """`kthreadd-emu debug ARGS` on a pseudo-terminal, at its first prompt."""
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    argv = ["-m", "kthreadd_emu.cli", "debug", *args]
    child = pexpect.spawn(sys.executable, argv, env=env, encoding="utf-8", timeout=timeout)
    child.expect_exact(PROMPT)
    return child


def quit_cleanly(child) -> None:
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")


def test_prompt_survives_bad_command_and_ctrl_c():
    child = session("--cpus", "2")
    child.sendline("frobnicate")
    child.expect_exact('Undefined command: "frobnicate"')
    child.expect_exact(PROMPT)
    child.sendcontrol("c")
    child.expect_exact("Quit")
    child.expect_exact(PROMPT)
    child.sendline("info symbol kernel_thread_helper")
    child.expect_exact("kernel_thread_helper in section .text")
    child.expect_exact(PROMPT)
    quit_cleanly(child)


def test_break_step_and_go_back_on_a_terminal():
    """Going back forks: the checkpoint that takes over must give the prompt back
    on the same terminal, with the registers the forward run had there."""
    child = session("--cpus", "3", timeout=30)
    child.sendline("set context off")
    child.expect_exact(PROMPT)
    child.sendline("break ret_from_fork")
    child.expect_exact("Breakpoint 1 at 0x")
    child.expect_exact(PROMPT)
    child.sendline("continue")
    child.expect_exact("Breakpoint 1, ")
    child.expect_exact(PROMPT)
    child.sendline("stepi")
    child.expect_exact(PROMPT)
    child.sendline("info registers eip esp eflags")
    child.expect(r"eip\s+(0x[0-9a-f]+).*esp\s+(0x[0-9a-f]+).*eflags\s+(0x[0-9a-f]+)")
    before = child.match.groups()
    child.expect_exact(PROMPT)
    child.sendline("stepi")
    child.expect_exact("in schedule_tail ()")
    child.expect_exact(PROMPT)
    child.sendline("reverse-stepi")
    child.expect_exact("in ret_from_fork ()")
    child.expect_exact(PROMPT)
    child.sendline("info registers eip esp eflags")
    child.expect(r"eip\s+(0x[0-9a-f]+).*esp\s+(0x[0-9a-f]+).*eflags\s+(0x[0-9a-f]+)")
    assert child.match.groups() == before
    child.expect_exact(PROMPT)
    child.sendline("frobnicate")
    child.expect_exact('Undefined command: "frobnicate"')
    child.expect_exact(PROMPT)
    child.sendcontrol("c")  # at once: a key from before the prompt is shown
    child.expect_exact("Quit")
    child.expect_exact(PROMPT)
    quit_cleanly(child)


def test_ctrl_d_ends_the_session_as_gdb_does():
    child = session("--cpus", "1")
    child.sendcontrol("d")  # at once: the shell made it a key before showing the prompt
    child.expect_exact("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_stops_a_running_continue(tmp_path):
    """A thread that spins for ever: Ctrl-C stops the machine where it is (gdb's
    SIGINT stop), and the session goes on with the machine consistent.  (It
    schedules each turn: a spin that does not is a soft lockup after 1,000,000
    instructions, which would end the run before the Ctrl-C on a fast machine.)"""
    spin = tmp_path / "spin.S"
    spin.write_text("\t.globl spin\nspin:\tincl %ebx\n\tcall schedule\n\tjmp spin\n")
    child = session("--load", str(spin), "--run", "kthread spin", timeout=30)
    child.sendline("set context off")
    child.expect_exact(PROMPT)
    child.sendline("break spin")
    child.expect_exact(PROMPT)
    child.sendline("continue")
    child.expect_exact("Breakpoint 1, ")
    child.expect_exact(PROMPT)
    child.sendline("delete")
    child.expect_exact(PROMPT)
    child.sendline("continue")
    child.expect(pexpect.TIMEOUT, timeout=1)  # it spins: no prompt
    child.sendcontrol("c")
    child.expect_exact("Program received signal SIGINT, Interrupt.")
    child.expect(r"0x[0-9a-f]+ in (spin|schedule) \(\)")
    child.expect_exact(PROMPT)
    child.sendline("print $ebx > 1000")
    child.expect_exact("$1 = 1")
    child.expect_exact(PROMPT)
    child.sendline("stepi")
    child.expect(r"0x[0-9a-f]+ in (spin|schedule) \(\)")
    child.expect_exact(PROMPT)
    quit_cleanly(child)


def test_tab_completes_a_commands_arguments_from_the_registry():
    """Tab offers what the command takes (here set disassembly-flavor's values),
    not only command names and symbols."""
    child = session("--cpus", "1")
    child.send("set disassembly-flavor int\t")
    child.sendline("")
    child.expect_exact(PROMPT)
    child.sendline("x/1i kernel_thread_helper")
    child.expect_exact("push   0")
    child.expect_exact(PROMPT)
    quit_cleanly(child)
