"""Run control with the real gdb in -batch mode: breakpoints, stepi, a
watchpoint, Ctrl-C during continue, register writes, detach and a next client,
against a server whose machine is stopped before boot."""

import re

import pytest
from gdbrun import Server, needs_gdb, register

from kernel_model.task import find_task_by_pid
from kthreadd_emu.scenario import booted_kernel

pytestmark = needs_gdb

# Ctrl-C in gdb -batch: a timer thread posts gdb's own "interrupt" command to its
# event loop while the foreground "continue" waits (gdb then sends 0x03).
CTRL_C_SOON = (
    "python import threading; threading.Timer(1.0, lambda: gdb.post_event("
    'lambda: gdb.execute("interrupt"))).start()'
)


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "kernel.elf", "--cpus", "2")
    yield srv
    srv.stop()


def test_break_at_kernel_thread_helper_then_stepi_into_the_thread_function(server):
    out = server.gdb(
        "break kernel_thread_helper", "continue", "info registers",
        "stepi", "stepi", "stepi", "stepi", "info registers eax ebx eip",
        "continue", "continue", "info registers",
        "stepi", "stepi", "stepi", "stepi", "info registers eax eip",
    )  # fmt: skip
    hit1, after1, hit3, after3 = re.split(r"^eax\s", out, flags=re.M)[1:]
    assert "hit Breakpoint 1, kernel_thread_helper () at " in out
    # pid 1 being born: ebx = kernel_init, the frame copy_thread built.
    assert re.search(r"^eflags\s+0x286\s+\[ PF SF IF \]$", hit1, re.M)
    for name, value in (
        ("cs", 0x60),
        ("ss", 0x68),
        ("ds", 0x7B),
        ("es", 0x7B),
        ("fs", 0xD8),
        ("gs", 0xE0),
    ):
        assert register("eax " + hit1, name) == value, name
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <kernel_init>$", after1, re.M)
    assert register("eax " + after1, "eip") == register("eax " + hit1, "ebx")
    assert register("eax " + after1, "eax") == register("eax " + hit1, "edx") == 0
    # The third thread (kthreadd's first: kthread(create)): the argument is not 0.
    assert register("eax " + hit3, "edx") != 0
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <kthread>$", after3, re.M)
    assert register("eax " + after3, "eip") == register("eax " + hit3, "ebx")
    assert register("eax " + after3, "eax") == register("eax " + hit3, "edx")


def test_watch_the_eflags_switch_to_saves_on_kthreadds_stack(server):
    kern = booted_kernel(2)  # the same machine: the slot's address
    slot = find_task_by_pid(kern, 2).thread.sp + 4
    out = server.gdb(f"watch *(int *){slot:#x}", "continue", "info registers esp", "continue")
    first, second = out.split("hit Hardware watchpoint 1")[1:]
    # switch_to's pushfl wrote eflags there: gdb stops right after the store, esp
    # pointing at the slot.
    assert re.search(r"Old value = 0\nNew value = 134\nswitch_to \(\) at .*entry_32\.S:\d+\n"
                     r"\d+\t\tpushl %ebp\n", first)  # fmt: skip
    assert register(first, "esp") == slot
    # The kernel's Python code stores there next: seen at its next line, while
    # the CPU is in the Python call (py_ret).
    assert "Old value = 134\nNew value = 0\n0xc0200000 in py_ret ()" in second


def test_ctrl_c_during_continue_then_detach_and_a_next_client(server):
    out = server.gdb(CTRL_C_SOON, "continue", "info threads")
    assert "received signal SIGINT, Interrupt." in out
    assert "(kthreadd pid 2 S cpu0)" in out  # it booted
    # Detached (gdb's last command), the machine runs on; a next client finds it.
    again = server.gdb("info threads", "print $pc")
    assert "(events/1 pid 12 S cpu1)" in again


def test_detach_at_a_breakpoint_removes_it_and_the_next_client_gets_the_machine(server):
    out = server.gdb("break kernel_thread_helper", "continue")
    assert "hit Breakpoint 1" in out
    again = server.gdb("info threads")
    assert "(kthreadd pid 2 S cpu0)" in again  # ran on to the end of the boot


def test_register_writes(server):
    out = server.gdb(
        "break kernel_thread_helper", "continue", "set $eax = 0x1234", "set $cs = 0x10",
        "info registers eax cs",
    )  # fmt: skip
    assert re.search(r"^eax\s+0x1234\s", out, re.M)
    assert "Could not write register" in out and re.search(r"^cs\s+0x60\s", out, re.M)


def test_load_and_run_line_starts_the_users_routine(tmp_path):
    """gdbserver --load FILE.S --run LINE: the assembly tests' machine with the run
    line's thread ready; gdb breaks in the user's routine with its argument."""
    source = tmp_path / "triple.S"
    source.write_text("\t.globl triple\ntriple:\tleal (%eax,%eax,2), %eax\n\tret\n")
    srv = Server(tmp_path / "k.elf", "--cpus", "3", "--load", str(source),
                 "--run", "kthread triple arg=14")  # fmt: skip
    try:
        out = srv.gdb("break triple", "continue", "info registers eax eip", "stepi",
                      "info registers eax")  # fmt: skip
    finally:
        srv.stop()
    assert "Breakpoint 1, triple () at " in out
    assert re.findall(r"^eax\s+(0x[0-9a-f]+)", out, re.M) == ["0xe", "0x2a"]
