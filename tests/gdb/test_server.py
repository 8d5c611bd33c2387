"""The stub over a real socket on 127.0.0.1 (port 0): one client at a time, a
client that vanishes mid-packet, detach then a new client, Ctrl-C."""

import socket
import threading

import pytest
from gdbfake import WaitingFakeTarget

from gdbstub.server import BUSY, KILLED, GdbServer


@pytest.fixture
def served():
    server = GdbServer("127.0.0.1", 0)
    target = WaitingFakeTarget()

    def drive():
        while server.serve_stopped(target) != KILLED:
            target.wait()

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    yield server, target
    server.close()
    target.event.set()
    thread.join(5)


def connect(server) -> socket.socket:
    sock = socket.create_connection(server.address, timeout=5)
    return sock


def exchange(sock, data: bytes) -> bytes:
    """Send, then read until a whole reply (``#`` and two checksum digits) came."""
    sock.sendall(data)
    got = b""
    while b"#" not in got or len(got) < got.index(b"#") + 3:
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def test_handshake_second_client_refused_detach_then_another(served):
    server, target = served
    first = connect(server)
    assert exchange(first, b"+$?#3f") == b"+$T05thread:1;core:0;#25"
    second = connect(server)
    refusal = exchange(second, b"+$qSupported#37")
    assert BUSY in refusal
    assert second.recv(100) == b""  # then closed
    assert exchange(first, b"$qC#b4") == b"+$QC1#c5"  # the first one is still served
    assert exchange(first, b"$D#44") == b"+$OK#9a"
    assert first.recv(100) == b""
    third = connect(server)  # the detached target is interrupted for the new client
    assert exchange(third, b"+$?#3f").startswith(b"+$T02thread:1;")
    third.close()


def test_client_vanishing_mid_packet_leaves_the_server_listening(served):
    server, _ = served
    gone = connect(server)
    gone.sendall(b"+$qSupp")
    gone.close()
    again = connect(server)
    assert exchange(again, b"+$?#3f") == b"+$T05thread:1;core:0;#25"


def test_ctrl_c_while_running(served):
    server, target = served
    sock = connect(server)
    assert ack(sock, b"+$c#63") == b"+"
    assert exchange(sock, b"\x03") == b"$T02thread:1;core:0;#22"
    assert ("interrupt",) in target.log
    assert ack(sock, b"$k#6b") == b"+"


def ack(sock, data: bytes) -> bytes:
    sock.sendall(data)
    return sock.recv(1)
