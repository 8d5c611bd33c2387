"""The real gdb, in -batch mode, against `kthreadd-emu gdbserver` on a free port
of 127.0.0.1 (skipped, with the reason, where gdb is not installed)."""

import re

import pytest
from gdbrun import Server, needs_gdb

from debugger.ps import snapshot
from debugger.tasks import sleeping_registers
from kernel_model.task import find_task_by_pid
from kthreadd_emu.scenario import booted_kernel

pytestmark = needs_gdb


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("gdb") / "kernel.elf", "--cpus", "2", "--booted")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def same_machine():
    """The server's machine, booted the same (deterministic) way in this process."""
    return booted_kernel(2)


def gdb(server, *commands) -> str:
    return server.gdb(*commands)


def gdb_thread_number(output: str, extra: str) -> int:
    return int(re.search(rf"^\*?\s+(\d+)\s+Thread \d+ \({re.escape(extra)}", output, re.M).group(1))


def test_info_threads_lists_every_task_of_ps(server, same_machine):
    out = gdb(server, "info threads")
    for proc in snapshot(same_machine):
        assert f"({proc.comm} pid {proc.pid} {proc.state} cpu{proc.cpu})" in out, proc
    assert "(swapper pid 0 R cpu0)" in out and "(swapper pid 0 R cpu1)" in out


def test_sleeping_kthreadd_shows_its_saved_frame(server, same_machine):
    n = gdb_thread_number(gdb(server, "info threads"), "kthreadd pid 2 S")
    out = gdb(server, f"thread {n}", "bt", "info registers")
    kthreadd = find_task_by_pid(same_machine, 2)
    saved = sleeping_registers(same_machine, kthreadd)
    assert re.search(r"#0\s+switch_to \(\) at .*entry_32\.S:\d+", out)
    assert re.search(rf"esp\s+{saved['esp']:#x}", out)
    assert re.search(rf"ebp\s+{saved['ebp']:#x}", out)
    assert re.search(r"eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <switch_to\+42>", out)
    assert re.search(r"cs\s+0x60", out) and re.search(r"fs\s+0xd8", out)


def test_a_task_running_on_another_cpu_shows_that_cpus_registers(server, same_machine):
    n = gdb_thread_number(gdb(server, "info threads"), "swapper pid 0 R cpu1")
    out = gdb(server, f"thread {n}", "info registers")
    live = same_machine.machine.cpus[1].regs()
    assert live["esp"] != same_machine.machine.cpus[0].regs()["esp"]
    for name in ("esp", "eip", "eflags"):
        assert re.search(rf"^{name}\s+{live[name]:#x}\b", out, re.M), name
    assert re.search(r"gs\s+0xe0", out)


def test_symbols_disassembly_and_a_pt_regs(server, same_machine):
    kthreadd = find_task_by_pid(same_machine, 2)
    regs_at = kthreadd.stack + 0x2000 - 8 - 68
    out = gdb(server, "disassemble ret_from_fork", f"x/17wx {regs_at:#x}", "info line kthreadd")
    assert "Dump of assembler code for function ret_from_fork:" in out
    assert "call   0x" in out and "<schedule_tail>" in out
    words = same_machine.mem.unpack("<17I", regs_at)
    dump = out.split(f"{regs_at:#x}:")[1]
    shown = [int(w, 16) for w in re.findall(r"0x[0-9a-f]{8}(?=\s|$)", dump)]
    assert tuple(shown[:17]) == words


def test_monitor_commands(server):
    out = gdb(
        server, "monitor ps", "monitor info gdt", "monitor ptregs 2", "monitor nonsense",
        "monitor info segments", "monitor p task(2)->comm", "monitor continue",
    )  # fmt: skip
    assert "[kthreadd]" in out and "sel 0x00d8" in out
    assert "EIP: 0060:[<" in out
    # Any other debugger command runs on the same engine; run control stays gdb's.
    assert 'Undefined command: "nonsense"' in out
    assert '$1 = "kthreadd"' in out and "cs  0x0060  index 12 (GDT)" in out
    assert "monitor continue: run control is gdb's own" in out


def test_a_second_gdb_is_refused_while_one_is_attached(server):
    import socket

    first = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    first.sendall(b"+$?#3f")
    reply = b""
    while b"#" not in reply or len(reply) < reply.index(b"#") + 3:
        reply += first.recv(64)
    assert reply.startswith(b"+$T0")  # T02 once a detached target was interrupted
    out = gdb(server, "info threads")
    first.sendall(b"$D#44")
    first.recv(64)
    first.close()
    assert "another gdb is already attached to this server" in out
