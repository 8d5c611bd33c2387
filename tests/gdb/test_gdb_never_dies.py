"""The real gdb in -batch mode doing what ended the server before: a `monitor`
command the shell cannot run, a breakpoint deleted behind gdb's back, `monitor
quit`; each gets its one line and the server goes on serving.  And a soft
lockup reaches gdb as SIGXCPU with the kernel's report on its console."""

import re

import pytest
from gdbrun import Server, needs_gdb

from kthreadd_emu.commands.gdbserver import QUIT_REFUSED

pytestmark = needs_gdb
GONE = "Remote connection closed"


@pytest.fixture
def unbooted(tmp_path):
    srv = Server(tmp_path / "kernel.elf", "--cpus", "2")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def booted(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("gdb") / "kernel.elf", "--cpus", "2", "--booted")
    yield srv
    srv.stop()


def alive(srv) -> bool:
    """The server still runs and a next gdb gets the machine."""
    return srv.proc.poll() is None and "[kthreadd]" in srv.gdb("monitor ps")


def test_monitor_define_is_one_line(booted):
    out = booted.gdb("monitor define foo", "monitor ps")
    assert "define foo: the input ended before `end'" in out
    assert GONE not in out and "[kthreadd]" in out


def test_monitor_quit_is_refused_in_one_line(booted):
    out = booted.gdb("monitor quit", "monitor ps")
    assert f"monitor quit: {QUIT_REFUSED}" in out
    assert GONE not in out and "[kthreadd]" in out


def test_one_shell_lives_for_the_session(booted):
    out = booted.gdb(
        "monitor record start", "monitor record stop", "monitor print 6 * 7", "monitor print $1"
    )
    assert "Stopped recording: 0 events." in out and "not recording" not in out
    assert "$1 = 42" in out and "$2 = 42" in out


def test_a_monitor_command_that_raises_answers_and_the_server_lives(unbooted):
    """`cpu 1` before boot reads a current task that is not there yet: whatever
    the shell makes of it, gdb gets a line and the server goes on."""
    out = unbooted.gdb("monitor cpu 1", "monitor print 1", "info threads")
    assert GONE not in out
    assert "$1 = 1" in out and "Thread 1" in out
    assert alive(unbooted)


def test_a_breakpoint_deleted_behind_gdbs_back(unbooted):
    out = unbooted.gdb(
        "set breakpoint always-inserted on", "break kernel_thread_helper", "continue",
        "monitor delete", "delete", "break kernel_init", "continue", "info breakpoints",
    )  # fmt: skip
    assert GONE not in out
    # (gdb names the line of each: the ELF's line tables)
    assert "hit Breakpoint 1, kernel_thread_helper () at " in out
    assert "hit Breakpoint 2, kernel_init () at " in out
    assert alive(unbooted)


def test_a_soft_lockup_is_sigxcpu_with_the_kernels_report(tmp_path):
    spin = tmp_path / "spin.S"
    spin.write_text("\t.globl spin\nspin:\tjmp spin\n")
    srv = Server(tmp_path / "k.elf", "--cpus", "2", "--load", str(spin),
                 "--run", "kthread spin budget=5000")  # fmt: skip
    try:
        out = srv.gdb("continue", "info registers eip")
    finally:
        srv.stop()
    assert "received signal SIGXCPU, CPU time limit exceeded." in out
    assert "BUG: soft lockup - CPU#1 stuck for 5000 instructions! [asmtest:" in out
    assert re.search(r"^spin \(\) at .*spin\.S:2$", out, re.M) and "<spin>" in out
