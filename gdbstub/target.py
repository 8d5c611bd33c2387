"""What the stub needs of the machine it debugs: the Target interface.

Thread ids are the protocol's (positive; 0 means "any", -1 "all").  Register
values are keyed by gdb's names (gdbstub/tdesc.py); a register a thread does
not have is absent.  Resuming is asynchronous: ``resume`` returns at once and
the target later reports the stop through the ``stopped`` callback it was given
(``Session.stopped``), from whatever thread runs the machine.

This module imports nothing of the project.
"""

from dataclasses import dataclass

# gdb's signal numbers (gdb/signals.def), as stop replies carry them.
SIGINT, SIGILL, SIGTRAP, SIGSEGV, SIGXCPU = 2, 4, 5, 11, 24
EFAULT, EINVAL, ENOENT = 14, 22, 2


class TargetError(Exception):
    """The target refused (a bad address, a dead thread): an ``Enn`` reply."""

    def __init__(self, message: str, errno: int = EINVAL):
        super().__init__(message)
        self.errno = errno


@dataclass(frozen=True)
class Stop:
    """Why the target stopped and where: a stop reply (``T05thread:3;core:0;``)."""

    tid: int
    signal: int = SIGTRAP
    reason: str | None = None  # swbreak, hwbreak, watch, rwatch, awatch
    address: int | None = None  # the data address of a watchpoint hit
    core: int | None = None
    output: str = ""  # console text for gdb (``O`` packets) before the stop reply
    replaylog: str | None = None  # "begin": going back reached the start of the history


@dataclass(frozen=True)
class Action:
    """One vCont action: ``c``, ``s`` or ``t`` for ``tid`` (None: every other thread)."""

    kind: str
    tid: int | None = None
    signal: int | None = None


class Target:
    """The machine as the stub sees it.  Every method may raise TargetError."""

    def threads(self) -> list[int]:
        raise NotImplementedError

    def thread_alive(self, tid: int) -> bool:
        raise NotImplementedError

    def thread_extra_info(self, tid: int) -> str:
        raise NotImplementedError

    def thread_core(self, tid: int) -> int | None:
        """The CPU the thread is on (qXfer:threads' core), None if unknown."""
        return None

    def current_stop(self) -> Stop:
        """Why the target is stopped now (the ``?`` reply)."""
        raise NotImplementedError

    def registers(self, tid: int) -> dict:
        raise NotImplementedError

    def write_registers(self, tid: int, values: dict) -> None:
        raise NotImplementedError

    def read_memory(self, addr: int, length: int) -> bytes:
        raise NotImplementedError

    def write_memory(self, addr: int, data: bytes) -> None:
        raise NotImplementedError

    def insert_breakpoint(self, kind: int, addr: int, length: int) -> None:
        """Z0 (software), Z1 (hardware), Z2/Z3/Z4 (write/read/access watchpoint)."""
        raise NotImplementedError

    def remove_breakpoint(self, kind: int, addr: int, length: int) -> None:
        raise NotImplementedError

    def resume(self, actions: list[Action], stopped) -> None:
        """Start the actions; call ``stopped(Stop)`` when the target stops."""
        raise NotImplementedError

    def reverse(self, kind: str, tid: int, stopped) -> None:
        """``bc`` (kind "c") or ``bs`` ("s", thread ``tid``): run backwards; call
        ``stopped(Stop)`` where it stops (``replaylog="begin"`` at the start of the
        history)."""
        raise TargetError("this target does not run backwards", EINVAL)

    def interrupt(self) -> None:
        """Ctrl-C: stop soon with SIGINT (called from another thread)."""
        raise NotImplementedError

    def client_attached(self) -> None:
        """A new client's first packet is about to be served."""

    def detach(self) -> None:
        """The client leaves (D, or its connection ended): what it inserted goes,
        the target goes on without it."""

    def kill(self) -> None:
        """The client asked to kill the target."""

    def exec_file(self) -> str | None:
        return None

    def monitor(self, command: str) -> str:
        raise TargetError(f"no monitor commands: {command!r}", EINVAL)
