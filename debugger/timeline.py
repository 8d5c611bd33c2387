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
``window`` instructions; older ones are dropped: told to end (None on their
pipe), and reaped as the session goes on, without waiting for them.  A
checkpoint holds the pipes of every older one (it may be woken and go back
further), so closing ours would not end it.  The process that forked a
checkpoint reaps it; one that wakes a checkpoint and waits for it ignores
SIGCHLD, so those the new session drops are reaped by the kernel.  When the
session ends, it drops every checkpoint it holds and waits until they have
ended: none outlives it.
"""

import os
import pickle
import select
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

    def end(self) -> None:
        """Tell it to end (it may have already)."""
        try:
            os.write(self.wake_fd, pickle.dumps(None))
        except BrokenPipeError:
            pass
        os.close(self.wake_fd)

    def ended(self, wait: bool) -> bool:
        """Has it ended (reaped, if it is ours)?  With ``wait``, once it has."""
        if self.owner == os.getpid():
            try:
                if os.waitpid(self.pid, 0 if wait else os.WNOHANG)[0] == 0:
                    return False
            except ChildProcessError:
                pass  # reaped already: this process ignores SIGCHLD (it has gone back)
        elif wait or select.select([self.done_fd], [], [], 0)[0]:
            while os.read(self.done_fd, 64):
                pass  # EOF: it has ended (its parent, waiting, ignores SIGCHLD)
        else:
            return False
        os.close(self.done_fd)
        return True


class Timeline:
    def __init__(self, interval: int = INTERVAL, window: int = WINDOW):
        self.interval, self.window = interval, window
        self.points: list[Checkpoint] = []
        self.ending: list[Checkpoint] = []  # told to end, not yet reaped
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
            # The session's report channel and its dropped checkpoints: not this copy's.
            if self.done_fd is not None:
                os.close(self.done_fd)
            for point in self.ending:
                os.close(point.done_fd)
            self.ending = []
            message = self._wait(wake_r)
            self.done_fd = done_w
            self._keep(message.pop("alive"))

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

    def _keep(self, alive: list[int]) -> None:
        """Woken: of the older checkpoints this copy knew, those the session dropped
        since (out of the window) have ended; forget them."""
        for point in self.points:
            if point.icount not in alive:
                os.close(point.wake_fd)
                os.close(point.done_fd)
        self.points = [p for p in self.points if p.icount in alive]

    def _forget_old(self, icount: int) -> None:
        while len(self.points) > 1 and self.points[1].icount <= icount - self.window:
            self._drop(self.points.pop(0))
        self.ending = [p for p in self.ending if not p.ended(wait=False)]

    def _drop(self, point: Checkpoint) -> None:
        point.end()
        self.ending.append(point)

    def close(self) -> None:
        """The session ends: so does every checkpoint, before this returns."""
        for point in self.points:
            self._drop(point)
        for point in self.ending:
            point.ended(wait=True)
        self.points, self.ending = [], []

    def oldest(self) -> int | None:
        return self.points[0].icount if self.points else None

    def go_back(self, target: int, message: dict) -> None:
        """Wake the checkpoint for ``target`` and hand it the session: this process
        waits for it to end, then ends with its status (it never returns)."""
        point = max((p for p in self.points if p.icount <= target), key=lambda p: p.icount)
        # The woken copy holds its own ends of the older points; the newer ones
        # it cannot reach.
        for p in self.points:
            if p.icount > point.icount:
                self._drop(p)
            elif p is not point:
                os.close(p.wake_fd)
                os.close(p.done_fd)
        sys.stdout.flush()
        sys.stderr.flush()
        with os.fdopen(point.wake_fd, "wb") as wake:
            alive = [p.icount for p in self.points if p.icount < point.icount]
            pickle.dump({**message, "target": target, "alive": alive}, wake)
        # The session is the checkpoint's now: Ctrl-C at the terminal is for it,
        # and our checkpoints are reaped as they end: those dropped here (the
        # ones already gone, now), and those the new session drops.  Whatever
        # happens here, this process must not go on as a second session.
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            for p in self.ending:
                p.ended(wait=False)
            status = int(os.read(point.done_fd, 16) or b"1")
            self.report_exit(status)
        finally:
            os._exit(status)

    def report_exit(self, status: int) -> None:
        """When the session ends in a woken checkpoint: tell the process waiting for it."""
        if self.done_fd is not None:
            os.write(self.done_fd, str(status).encode())
            self.done_fd = None
