"""Going back: checkpoints of the whole debug session as forked processes.

Python generators (the kernel's sleeping Python frames) cannot be copied, so a
checkpoint is a copy of the whole process, made with fork(): Unicorn's state,
RAM (a private mapping, copied on write), every Python object.  The copy waits
on a pipe.  To go back to instruction count T, the session wakes the latest
checkpoint taken at or before T and hands it what the user set up since
(breakpoints, the shell's state); the checkpoint makes a fresh copy of itself
(so it can be used again), then runs forward, deterministically, to T (the
machine's clock cuts the run there exactly: emu/clock.py) and stops.  The
machine is deterministic (scheduling depends only on its state), so the state
at T is the state the forward run had at T, on every CPU, Python kernel state
included.

Which checkpoints (``due``, ``thin``).  They cover the whole session, from its
first instruction.  The engine asks at least ``INTERVAL`` instructions apart
(``next_look``: about when one will be due, at the current speed); one is
taken if the CPU time since the last one is at least ``1 / OVERHEAD`` times
what the last one cost (its fork, and the copy-on-write faults and the exit it
brings, estimated as ``COW_FACTOR`` times the fork): checkpoints take about
5 % of a run, so at full speed they are some millions of instructions apart,
and every 20,000 while stepping by hand.  As they age they are thinned,
as rr and UndoDB thin theirs: the last ``DENSE`` instructions keep every one,
and further back two kept checkpoints are at least ``age / RESOLUTION`` apart
(so their number grows with the logarithm of the session's length); the first
one, the start of the history, is always kept.  The memory they hold beyond
the session's own (``memory``: the processes' PSS, measured in /proc, less the
session's RSS) is measured as often as that is cheap (the same share of CPU
time) and kept under ``MEMORY_BOUND`` by thinning harder.

Processes.  The process the user started (the root) is the session until it
first goes back; then it waits, only to reap and to pass on the exit status of
whichever process ends the session (through a pipe every process of the
session holds): it is the child subreaper (Linux), so processes of the session
whose parent is gone become its children; it returns once none is left.  Any
other process that goes back ends at once.  So a session is the root, the
process running it, and its checkpoints, however often it goes back.  A
dropped checkpoint is told to end (None on its pipe); a checkpoint whose pipe
reaches EOF (every process that could wake it is gone) ends too.  When the
session ends, every checkpoint is told to end, and the root returns only when
all have.
"""

import ctypes
import os
import pickle
import signal
import sys
import time
from typing import NoReturn

INTERVAL = 20_000
DENSE = 1_000_000
RESOLUTION = 8
OVERHEAD = 0.05
COW_FACTOR = 4.0
MEMORY_BOUND = 200 << 20
PR_SET_CHILD_SUBREAPER = 36


class Checkpoint:
    def __init__(self, icount: int, counts: tuple, pid: int, wake_fd: int):
        self.icount, self.counts, self.pid, self.wake_fd = icount, counts, pid, wake_fd
        self.owner = os.getpid()  # its parent: the process that reaps it (else the root)

    def end(self) -> None:
        """Tell it to end (it may have already)."""
        if self.wake_fd is None:
            return
        try:
            os.write(self.wake_fd, pickle.dumps(None))
        except BrokenPipeError:
            pass
        os.close(self.wake_fd)
        self.wake_fd = None

    def reaped(self, wait: bool) -> bool:
        """Has it ended and been reaped?  (One whose parent is gone is the root's to reap.)"""
        if self.owner != os.getpid():
            return True
        try:
            return os.waitpid(self.pid, 0 if wait else os.WNOHANG)[0] != 0
        except ChildProcessError:
            return True  # reaped already


class Timeline:
    def __init__(self):
        self.points: list[Checkpoint] = []
        self.ending: list[Checkpoint] = []  # told to end, not yet reaped
        self.root = os.getpid()
        self.status_r, self.status_w = os.pipe()  # the session's exit status, to the root
        self.resolution = RESOLUTION
        self.on_leave: list = []  # called when this process hands the session over
        self.fork_locks: list = []  # held across each fork (no other thread inside)
        self._cost = 0.0  # CPU seconds the last checkpoint cost
        self._since = time.process_time()
        self._measured = 0.0  # CPU time of the last memory measurement
        self._measure_cost = 0.0
        self._look = (0, time.process_time())  # (icount, CPU time) of the last look

    @staticmethod
    def available() -> bool:
        return hasattr(os, "fork")

    # -- taking checkpoints -------------------------------------------------------------

    def due(self) -> bool:
        """Is a checkpoint worth its cost now?"""
        return not self.points or time.process_time() - self._since >= self._cost / OVERHEAD

    def next_look(self, icount: int) -> int:
        """Instructions until ``due`` is worth asking again: about when the CPU time
        it waits for will have passed, at the rate since the last look (at least
        INTERVAL; while stepping by hand, that)."""
        now = time.process_time()
        needed = self._cost / OVERHEAD - (now - self._since)
        rate = (icount - self._look[0]) / max(now - self._look[1], 1e-6)
        self._look = (icount, now)
        return max(INTERVAL, int(rate * needed * 0.9))

    def checkpoint(self, icount: int, counts):
        """Fork a copy that waits here.  Returns None in the session; in the copy,
        once woken, the message the session sent (having first forked a fresh
        copy of itself, so this point can be used again, unless the message says it
        need not be kept).  ``counts``: each CPU's."""
        message = None
        while True:
            sys.stdout.flush()
            sys.stderr.flush()
            start = time.process_time()
            wake_r, wake_w = os.pipe()
            pid = self._fork()
            if pid != 0:
                os.close(wake_r)
                self.points.append(Checkpoint(icount, tuple(counts), pid, wake_w))
                self._cost = (time.process_time() - start) * COW_FACTOR
                self._since = time.process_time()
                self.thin(icount)
                return message
            os.close(wake_w)
            self.ending = []  # the session's to reap, not this copy's
            message = self._wait(wake_r)
            self._keep(message.pop("alive"))
            self._since = time.process_time()
            if not message.pop("keep"):
                return message  # used up: the scan that woke it needs it no more

    def _fork(self) -> int:
        for lock in self.fork_locks:
            lock.acquire()
        try:
            return os.fork()
        finally:
            for lock in self.fork_locks:
                lock.release()

    @staticmethod
    def _wait(wake_r: int) -> dict:
        """In a checkpoint: sleep until woken; end if told to (None) or if no process
        that could wake it is left (EOF)."""
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
        since have ended; forget them."""
        for point in self.points:
            if point.icount not in alive:
                os.close(point.wake_fd)
        self.points = [p for p in self.points if p.icount in alive]

    # -- thinning ----------------------------------------------------------------------

    def thin(self, now: int) -> None:
        """Drop what the age rule no longer keeps; then, if a measurement is worth
        its cost, measure, and thin harder while over the memory bound."""
        self._thin_by_age(now)
        if time.process_time() - self._measured >= self._measure_cost / OVERHEAD:
            start = time.process_time()
            while len(self.points) > 2 and self.memory() > MEMORY_BOUND:
                self.resolution /= 2
                if not self._thin_by_age(now):
                    break
            self._measured = time.process_time()
            self._measure_cost = self._measured - start
        self.ending = [p for p in self.ending if not p.reaped(wait=False)]

    def _thin_by_age(self, now: int) -> int:
        """Keep the first and the last, every one of the last ``DENSE`` instructions
        (less, once the memory bound has lowered the resolution), and further back
        those at least age / resolution apart; returns how many were dropped."""
        dense = DENSE * min(1.0, self.resolution / RESOLUTION)
        kept = [self.points[-1]] if self.points else []
        for point in reversed(self.points[1:-1]):
            age = now - point.icount
            if age <= dense or kept[-1].icount - point.icount >= age / self.resolution:
                kept.append(point)
            else:
                self._drop(point)
        if len(self.points) > 1:
            kept.append(self.points[0])
        dropped = len(self.points) - len(kept)
        self.points = kept[::-1]
        return dropped

    def _drop(self, point: Checkpoint) -> None:
        point.end()
        self.ending.append(point)

    def memory(self) -> int:
        """Bytes the checkpoints hold beyond the session's own: the PSS of this
        process, of every checkpoint and of the waiting root, less this process's
        RSS (0 where /proc cannot tell)."""
        me = os.getpid()
        waiting = [self.root] if self.root != me else []  # the root, once it waits
        total = sum(_proc_kb(pid, "Pss:") for pid in [me, *waiting, *(p.pid for p in self.points)])
        return max(0, total - _proc_kb(me, "Rss:")) * 1024

    # -- going back ----------------------------------------------------------------------

    def oldest(self) -> int | None:
        return self.points[0].icount if self.points else None

    def at_or_before(self, target: int, cpu: int | None = None) -> Checkpoint | None:
        """The latest checkpoint taken when the count (machine-wide, or CPU
        ``cpu``'s) was ``target`` or less."""
        older = [p for p in self.points if (p.icount if cpu is None else p.counts[cpu]) <= target]
        return older[-1] if older else None

    def before(self, icount: int) -> Checkpoint | None:
        """The latest checkpoint taken strictly before ``icount``."""
        older = [p for p in self.points if p.icount < icount]
        return older[-1] if older else None

    def go_back(self, point: Checkpoint, message: dict) -> NoReturn:
        """Wake ``point`` and hand it the session (this process never goes on as a
        second session: it ends, or, the root, waits to pass on the exit status).
        ``message["keep"]`` False: the point need not stay (the first one always does)."""
        root = os.getpid() == self.root
        if root:  # from now on the orphaned checkpoints are this process's, to reap
            _become_subreaper()
        for p in self.points:
            if p.icount > point.icount:
                self._drop(p)  # the woken copy cannot reach them
        for leave in self.on_leave:
            leave()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            alive = [p.icount for p in self.points if p.icount < point.icount]
            keep = message.pop("keep", True) or point is self.points[0]
            with os.fdopen(point.wake_fd, "wb") as wake:
                point.wake_fd = None
                pickle.dump({**message, "alive": alive, "keep": keep}, wake)
        finally:
            if not root:
                os._exit(0)
            self._wait_as_root()

    def _wait_as_root(self) -> NoReturn:
        """The root hands the session over: from now on it only passes on the exit
        status of the process that ends the session, once every process has ended."""
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            for p in self.points:
                if p.wake_fd is not None:
                    os.close(p.wake_fd)
            os.close(self.status_w)
            # Every process of the session is this one's child once its parent is
            # gone: reaped here (so their CPU time is counted, as a shell's time shows).
            while True:
                try:
                    os.waitpid(-1, 0)
                except ChildProcessError:
                    break
            while chunk := os.read(self.status_r, 64):
                status = int(chunk.split()[-1])
        finally:
            os._exit(status)

    # -- the end ---------------------------------------------------------------------------

    def close(self) -> None:
        """The session ends: so does every checkpoint (the root waits for its own)."""
        for point in self.points:
            self._drop(point)
        for point in self.ending:
            point.reaped(wait=True)
        self.points, self.ending = [], []

    def report_exit(self, status: int) -> None:
        """The session ends here: the root, waiting, exits with ``status``."""
        if os.getpid() != self.root:
            os.write(self.status_w, f"{status}\n".encode())


def _become_subreaper() -> None:
    """Orphaned checkpoints become this process's children (Linux; elsewhere init's)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _proc_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
