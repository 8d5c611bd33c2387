"""The stub's side of the wire does not change for gdb with the DWARF ELF: a
real gdb session that uses the types, the backtraces and the helpers
(recorded with gdb's ``set remotelogfile``) sends only packets the stub
answered before, and the same requests sent again to a fresh server on the
same machine get the same replies, byte for byte (skipped, with the reason,
where gdb is not installed)."""

import re
import socket

from gdbrun import Server, needs_gdb

from emu.memory import PAGE_OFFSET

pytestmark = needs_gdb

# What the stub served before the ELF had DWARF (gdbstub/handlers.py).
STUB_PACKETS = {
    "qSupported", "vMustReplyEmpty", "QStartNoAckMode", "H", "qXfer:features:read",
    "qXfer:threads:read", "qXfer:exec-file:read", "qTStatus", "?", "qAttached",
    "qOffsets", "qSymbol", "qfThreadInfo", "qsThreadInfo", "qThreadExtraInfo", "qC",
    "qRcmd", "g", "p", "m", "T", "D",
}  # fmt: skip
# The queries gdb sends for features this stub does not have: an empty reply.
EMPTY_BY_DESIGN = {"vMustReplyEmpty", "qTStatus", "qOffsets", "qSymbol"}
SESSION = (
    "lx-ps", "thread apply all bt", "ptype struct task_struct", "p $lx_current()->pid",
    "p init_task.comm", "p *(struct pt_regs *)$esp",
)  # fmt: skip


def kind(packet: str) -> str:
    if packet[0] in "qQv":
        name = re.match(r"[^:,;]+", packet).group(0)
        if name == "qXfer":
            return ":".join(packet.split(":")[:3])
        return name
    return packet[0]


def outside_ram(request: str, reply: str) -> bool:
    """A read below the kernel's RAM (an unwinder's probe past the last frame)
    answered EFAULT, as the stub always has."""
    m = re.fullmatch(r"m([0-9a-f]+),[0-9a-f]+", request)
    return m is not None and int(m.group(1), 16) < PAGE_OFFSET and reply == "E0e"


def unescape(text: str) -> str:
    """gdb's remotelogfile writes non-printing bytes as C escapes."""
    return re.sub(r"\\(x[0-9a-f]{2}|.)", _one, text)


def _one(m) -> str:
    code = m.group(1)
    if code.startswith("x"):
        return chr(int(code[1:], 16))
    return {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}.get(code, code)


def exchanges(log: str) -> list[tuple[str, str]]:
    """(request, reply) payloads of a remotelogfile, acks dropped."""
    out, request = [], None
    for line in log.splitlines():
        way, _, raw = line.partition(" ")
        m = re.search(r"\$(.*)#[0-9a-f]{2}", unescape(raw), re.S)
        if m is None:
            continue
        if way == "w":
            request = m.group(1)
        elif way == "r" and request is not None:
            out.append((request, m.group(1)))
            request = None
    return out


def ask(sock, payload: str) -> str:
    data = payload.encode("latin-1")
    sock.sendall(b"$" + data + b"#%02x" % (sum(data) & 0xFF))
    reply = b""
    while not re.search(rb"#[0-9a-f]{2}$", reply):
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        reply += chunk
    return re.search(rb"\$(.*)#[0-9a-f]{2}$", reply.lstrip(b"+"), re.S).group(1).decode("latin-1")


def test_a_dwarf_session_needs_nothing_new_of_the_stub(tmp_path):
    log = tmp_path / "wire.log"
    srv = Server(tmp_path / "kernel.elf", "--cpus", "3", "--booted")
    try:
        out = srv.gdb(*SESSION, autoload=True, before=[f"set remotelogfile {log}"])
    finally:
        srv.stop()
    assert "switch_to" in out and "type = struct task_struct {" in out
    recorded = exchanges(log.read_text(encoding="latin-1"))
    assert len(recorded) > 50
    for request, reply in recorded:
        assert kind(request) in STUB_PACKETS, request
        assert reply != "" or kind(request) in EMPTY_BY_DESIGN, request
        assert not reply.startswith("E") or outside_ram(request, reply), (request, reply)
    replay = Server(tmp_path / "kernel.elf", "--cpus", "3", "--booted")
    try:
        with socket.create_connection(("127.0.0.1", replay.port), timeout=30) as sock:
            for request, reply in recorded:
                if kind(request) == "D":
                    break
                assert ask(sock, request) == reply, request
            assert ask(sock, "D") == "OK"
    finally:
        replay.stop()
