"""The stub over TCP: one client at a time, Ctrl-C while the target runs.

The thread that runs the machine calls ``serve_stopped(target)`` whenever the
target is stopped (from the engine's ``on_stop``): it talks with the client
until the client resumes the target, detaches or kills it, and returns which.
With no client it waits for one, so a client that vanishes leaves the server
listening and the machine stopped where it was.

Two small threads help: an acceptor (a second client while one is attached gets
one error reply naming the reason, then is closed; a new client while the
target runs without one interrupts it) and a reader per client, which hands the
bytes to the machine's thread and, while the target runs, turns 0x03 into
``target.interrupt()`` at once.

A target that goes back in time forks the whole process (its checkpoints) and
hands the session to a copy.  The copies share the listening socket and the
client's: ``lock`` is held across each fork (``fork_lock``), ``retire()`` stops
this process's helpers from reading before it hands the session over, and
``after_fork()`` starts them again in the copy that takes it (threads do not
survive a fork).  A new client's session is announced to the target
(``target.client_attached()``): a copy forked before it came has no socket for it.

This module imports nothing of the project.
"""

import os
import queue
import select
import socket
import threading
import time

from gdbstub.handlers import Session
from gdbstub.packet import INTERRUPT, Packet, PacketReader, frame

BUSY = b"E.another gdb is already attached to this server; detach it first"
READ_SIZE = 65536
REFUSE_TIMEOUT = 5.0
FREE_WAIT = 1.0  # seconds a refused client gets to send its first packet

RESUMED, DETACHED, KILLED = "resumed", "detached", "killed"


class GdbServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 1234, on_error=None):
        self.on_error = on_error  # each Session's: what the target raised beyond TargetError
        self.listener = socket.create_server((host, port), reuse_port=False)
        self.listener.setblocking(False)  # shared with the copies of a target going back
        self.address = self.listener.getsockname()[:2]
        self.lock = threading.RLock()
        self.inbox: queue.Queue = queue.Queue()  # (connection, bytes | None at EOF)
        self.client: socket.socket | None = None
        self.session: Session | None = None
        self.session_conn: socket.socket | None = None  # whose session it is
        self.target = None  # the target of the running machine, for interrupts
        self.in_machine = False  # the target runs (the machine's thread left serve_stopped)
        self.closed = False
        self.client_gone = False
        self.retired = False  # this process handed the session over: its helpers stop
        self._start_helpers()

    @property
    def fork_lock(self):
        """Held across a fork, so that no helper is inside the lock (or the inbox)."""
        return self.lock

    def _start_helpers(self) -> None:
        self._wake_r, self._wake_w = os.pipe()  # written to make the helpers look up
        threading.Thread(target=self._accept_loop, name="gdb-accept", daemon=True).start()
        if self.client is not None:
            self._start_reader(self.client)

    def _start_reader(self, conn) -> None:
        threading.Thread(target=self._read_loop, args=(conn,), daemon=True).start()

    def retire(self) -> None:
        """This process hands the session over: its helpers read nothing more."""
        with self.lock:
            self.retired = True
            os.write(self._wake_w, b"x")

    def after_fork(self) -> None:
        """In the copy that takes the session over: its own helpers (a fork keeps
        only the thread that forked)."""
        os.close(self._wake_r)
        os.close(self._wake_w)
        self.lock = threading.RLock()
        self.retired = False
        self._start_helpers()

    @property
    def port(self) -> int:
        return self.address[1]

    # -- the machine's thread ---------------------------------------------------

    def serve_stopped(self, target) -> str:
        """Talk with the client while ``target`` is stopped; RESUMED, DETACHED or KILLED."""
        with self.lock:
            self.in_machine = False
            self.target = target
        while True:
            conn, data = self.inbox.get()
            if conn == "stop":
                return KILLED
            outcome = self._handle(conn, data, target)
            if outcome is not None:
                return outcome

    def _handle(self, conn, data, target) -> str | None:
        if data is None:  # a client went away, maybe mid-packet
            self._drop(conn)
            return None
        if conn is not self.client:
            return None  # left over from a client that is gone
        if self.session_conn is not conn:
            session = Session(target, self._sender(conn), on_error=self.on_error)
            self.session, self.session_conn = session, conn
            target.client_attached()
        self.session.receive(data)
        if self.session.closed == "kill":
            self._drop(conn)
            self.close()
            return KILLED
        if self.session.closed == "detach":
            self._drop(conn)
            with self.lock:
                self.in_machine = True
                if self.client is not None:  # the next client came already
                    target.interrupt()
            return DETACHED
        if self.session.running:
            return self._leave_for_machine()
        return None

    def _leave_for_machine(self) -> str | None:
        """Before the target runs: bytes already queued (a 0x03 typed at once) are
        read first, then the reader takes over interrupts."""
        with self.lock:
            while not self.inbox.empty():
                conn, data = self.inbox.get()
                if conn is self.session_conn and data is not None:
                    self.session.receive(data)
                elif data is None:
                    self._drop(conn)
                elif conn == "stop":
                    return KILLED
            self.in_machine = True
            return RESUMED

    def _sender(self, conn):
        def send(data: bytes) -> None:
            try:
                conn.sendall(data)
            except OSError:
                pass  # gone: the reader sees the end and drops the client

        return send

    def _drop(self, conn) -> None:
        with self.lock:
            if self.session_conn is conn:
                if self.session.closed is None:  # it vanished: nothing it inserted stays
                    self.session.target.detach()
                self.session = self.session_conn = None
            if self.client is conn:
                self.client, self.client_gone = None, False
        try:
            conn.shutdown(socket.SHUT_RDWR)  # wakes its reader; close alone would not
        except OSError:
            pass
        conn.close()

    def close(self) -> None:
        self.closed = True
        os.write(self._wake_w, b"x")  # the helpers stop looking
        try:
            self.listener.close()
        except OSError:
            pass
        self.inbox.put(("stop", None))

    # -- helper threads -------------------------------------------------------

    def _ready(self, sock) -> bool:
        """Wait until ``sock`` can be read; False once this process is retired."""
        while True:
            try:
                readable = select.select([sock, self._wake_r], [], [])[0]
            except (OSError, ValueError):
                return False
            if self.retired or self._wake_r in readable:
                return False
            if sock in readable:
                return True

    def _accept_loop(self) -> None:
        while not self.closed:
            if not self._ready(self.listener):
                return
            with self.lock:
                if self.retired:
                    return
                try:
                    conn, _ = self.listener.accept()
                except BlockingIOError:
                    continue  # another process of the session took it
                except OSError:
                    return
            conn.setblocking(True)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._wait_free()
            with self.lock:
                busy = self.client is not None and not self.client_gone
                if not busy:
                    self.client, self.client_gone = conn, False
                    if self.in_machine and self.target is not None:
                        self.target.interrupt()  # the new client finds the target stopped
            if busy:
                threading.Thread(target=_refuse, args=(conn,), daemon=True).start()
            else:
                self._start_reader(conn)

    def _wait_free(self) -> None:
        """A client that just left (detached, vanished) may not be dropped yet:
        give it FREE_WAIT seconds before calling the newcomer a second client."""
        for _ in range(int(FREE_WAIT / 0.01)):
            with self.lock:
                if self.client is None or self.client_gone:
                    return
            time.sleep(0.01)

    def _read_loop(self, conn) -> None:
        while True:
            if not self._ready(conn):
                return
            with self.lock:
                if self.retired:
                    return
                try:
                    data = conn.recv(READ_SIZE, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data and INTERRUPT in data and self.in_machine and self.client is conn:
                    self.target.interrupt()
                if not data and self.client is conn:
                    self.client_gone = True  # the machine's thread drops it next
                self.inbox.put((conn, data or None))
            if not data:
                return


def _refuse(conn) -> None:
    """Answer the first packet of a client we cannot take with BUSY, then close."""
    reader = PacketReader()
    conn.settimeout(REFUSE_TIMEOUT)
    try:
        for _ in range(64):
            data = conn.recv(READ_SIZE)
            if not data or any(isinstance(e, Packet) for e in reader.feed(data)):
                break
        conn.sendall(b"+" + frame(BUSY))
    except OSError:
        pass
    finally:
        conn.close()
