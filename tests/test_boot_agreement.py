"""`ps`, `record`, `debug` and the gdb stub tell the same story of a boot
(issue 16): every task with its name, the CPU it sleeps on and its state,
each command run as a user runs it, under several profiles and seeds."""

import json
import re
import socket
import subprocess
import sys

import pytest

from tests.ftrace_text import parse

CLI = [sys.executable, "-m", "kthreadd_emu.cli"]
MACHINES = [("3", "rhel6", None), ("2", "vanilla", "7"), ("4", "rhel6", "12345")]


def machine_args(cpus, profile, seed):
    return ["--cpus", cpus, "--profile", profile] + ([] if seed is None else ["--seed", seed])


def run(*argv, timeout=120) -> str:
    proc = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def from_ps(machine) -> dict:
    rows = json.loads(run("ps", "--json", *machine))
    return {r["pid"]: (r["comm"], r["cpu"], r["state"]) for r in rows}


def from_record(machine, tmp_path) -> dict:
    """Each task as the trace last shows it: the name and CPU of its last switch
    out, and the state it left in (a task never switched out is not there)."""
    out = tmp_path / "boot.txt"
    run("record", *machine, "-o", str(out))
    tasks = {}
    for line in parse(out.read_text()):
        if line.event == "sched_switch":
            f = line.fields
            tasks[int(f["prev_pid"])] = (f["prev_comm"], line.cpu, f["prev_state"])
    tasks.pop(0, None)  # the idle tasks, which ps does not list
    return tasks


def from_debug(machine, tmp_path) -> dict:
    script = tmp_path / "boot.gdb"
    script.write_text("set context off\ncontinue\ninfo threads\n")
    out = run("debug", *machine, "-x", str(script), "--batch")
    rows = re.findall(r"\((\S+) pid (\d+) (\w) cpu(\d+)\)", out)
    return {int(pid): (comm, int(cpu), state) for comm, pid, state, cpu in rows}


def _packet(sock, payload: bytes) -> bytes:
    """Send one RSP packet (no-ack mode) and read the reply's payload."""
    sock.sendall(b"$%s#%02x" % (payload, sum(payload) & 0xFF))
    data = b""
    while not re.search(rb"\$(.*)#[0-9a-f]{2}$", data, re.S):
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    return re.search(rb"\$(.*)#[0-9a-f]{2}$", data, re.S)[1].lstrip(b"+")


def from_gdb_stub(machine) -> dict:
    argv = [*CLI, "gdbserver", "--booted", "--port", "0", *machine]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r":(\d+)$", server.stdout.readline().strip())[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(b"+")
            _packet(sock, b"QStartNoAckMode")
            xml = b""
            while True:
                reply = _packet(sock, b"qXfer:threads:read::%x,fff" % len(xml))
                xml += reply[1:]
                if reply[:1] == b"l":
                    break
            sock.sendall(b"$k#6b")  # kill: no reply
    finally:
        server.kill()
        server.wait()
    rows = re.findall(rb'core="(\d+)">(\S+) pid (\d+) (\w) cpu\d+<', xml)
    return {int(pid): (comm.decode(), int(core), state.decode()) for core, comm, pid, state in rows}


@pytest.mark.parametrize("cpus, profile, seed", MACHINES)
def test_ps_record_debug_and_the_stub_agree_on_a_boot(cpus, profile, seed, tmp_path):
    machine = machine_args(cpus, profile, seed)
    ps = from_ps(machine)
    assert len(ps) > 4 * int(cpus)  # init, kthreadd and the per-CPU threads
    stub = {pid: task for pid, task in from_gdb_stub(machine).items() if pid}  # not the idle tasks
    assert from_debug(machine, tmp_path) == ps
    assert stub == ps
    assert from_record(machine, tmp_path) == ps
