"""Going back: checkpoints of the whole debug session as forked processes.

Python generators (the kernel's sleeping Python frames) cannot be copied, so a
checkpoint is a copy of the whole process, made with fork(): Unicorn's state,
RAM (a private mapping, copied on write), every Python object.  The copy
waits on a pipe.  To go back to instruction count T, the session wakes the
latest checkpoint taken at or before T, hands it what the user set up since
(breakpoints, the shell's state), and waits for it to end; the checkpoint
makes a fresh copy of itself (so it can be used again), then runs forward,
deterministically, to T and stops there.  The machine is deterministic
(scheduling depends only on its state), so the state at T is the state the
forward run had at T, on every CPU, Python kernel state included.

Checkpoints are taken every ``interval`` instructions and cover the last
``window`` instructions; older ones are dropped: told to end, and waited for.
A checkpoint holds the pipes of every older one (it may be woken and go back
further), so closing ours would not end it.  The process that forked a
checkpoint reaps it; one that wakes a checkpoint and waits for it ignores
SIGCHLD, so those the new session drops are reaped by the kernel.  When the
session ends, it drops every checkpoint it holds: none outlives it.
"""

import os
import pickle
import signal
import sys

INTERVAL = 20_000
WINDOW = 1_000_000


class Checkpoint:
    def __init__(self, icount: int, pid: int, wake_fd: int, done_fd: int):
        self.icount, self.pid = icount, pid
        self.owner = os.getpid()  # its parent: the process that must reap it
        self.wake_fd = wake_fd  # the session writes here to wake it (None: to end it)
        self.done_fd = done_fd  # it writes its exit status here; EOF when it has ended


class Timeline:
    def __init__(self, interval: int = INTERVAL, window: int = WINDOW):
        self.interval, self.window = interval, window
        self.points: list[Checkpoint] = []
        self.done_fd = None  # in a woken checkpoint: where to report the session's end

    @staticmethod
    def available() -> bool:
        return hasattr(os, "fork")

    def due(self, icount: int) -> bool:
        return not self.points or icount - self.points[-1].icount >= self.interval

    def checkpoint(self, icount: int):
        """Fork a copy that waits here.  Returns None in the session; in the copy,
        once woken, the message the session sent (having first forked a fresh
        copy of itself, so this point can be used again)."""
        message = None
        while True:
            sys.stdout.flush()
            sys.stderr.flush()
            wake_r, wake_w = os.pipe()
            done_r, done_w = os.pipe()
            pid = os.fork()
            if pid != 0:
                os.close(wake_r)
                os.close(done_w)
                self.points.append(Checkpoint(icount, pid, wake_w, done_r))
                self._forget_old(icount)
                return message
            os.close(wake_w)
            os.close(done_r)
            if self.done_fd is not None:
                os.close(self.done_fd)  # the session's report channel, not this copy's
            message = self._wait(wake_r)
            self.done_fd = done_w

    @staticmethod
    def _wait(wake_r: int) -> dict:
        """In a checkpoint: sleep until woken; end if told to (None) or if the
        session is gone (EOF)."""
        # Ctrl-C at the terminal reaches the whole process group: not the copies.
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        with os.fdopen(wake_r, "rb") as wake:
            try:
                message = pickle.load(wake)
            except EOFError:
                message = None
        if message is None:
            os._exit(0)
        signal.signal(signal.SIGINT, handler)
        return message

    def _forget_old(self, icount: int) -> None:
        old = []
        while len(self.points) > 1 and self.points[1].icount <= icount - self.window:
            old.append(self.points.pop(0))
        self._drop(old)

    @staticmethod
    def _drop(points) -> None:
        """End these checkpoints, and wait until they have."""
        for point in points:
            try:
                os.write(point.wake_fd, pickle.dumps(None))
            except BrokenPipeError:
                pass  # already gone
            os.close(point.wake_fd)
        for point in points:
            while os.read(point.done_fd, 64):
                pass
            os.close(point.done_fd)
            if point.owner == os.getpid():
                os.waitpid(point.pid, 0)

    def close(self) -> None:
        """The session ends: so does every checkpoint."""
        self._drop(self.points)
        self.points = []

    def oldest(self) -> int | None:
        return self.points[0].icount if self.points else None

    def go_back(self, target: int, message: dict) -> None:
        """Wake the checkpoint for ``target`` and hand it the session: this process
        waits for it to end, then ends with its status (it never returns)."""
        point = max((p for p in self.points if p.icount <= target), key=lambda p: p.icount)
        # The woken copy holds its own ends of the older points; the newer ones
        # it cannot reach.
        self._drop([p for p in self.points if p.icount > point.icount])
        for p in self.points:
            if p.icount < point.icount:
                os.close(p.wake_fd)
                os.close(p.done_fd)
        self.points = []
        sys.stdout.flush()
        sys.stderr.flush()
        with os.fdopen(point.wake_fd, "wb") as wake:
            pickle.dump({**message, "target": target}, wake)
        # The session is the checkpoint's now: Ctrl-C at the terminal is for it,
        # and the checkpoints it drops that are ours are reaped as they end.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        status = int(os.read(point.done_fd, 16) or b"1")
        self.report_exit(status)
        os._exit(status)

    def report_exit(self, status: int) -> None:
        """When the session ends in a woken checkpoint: tell the process waiting for it."""
        if self.done_fd is not None:
            os.write(self.done_fd, str(status).encode())
            self.done_fd = None
