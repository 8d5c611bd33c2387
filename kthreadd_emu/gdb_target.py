"""The emulated kernel as a gdb target: every task is a gdb thread.

Thread ids: a task's id is its pid + 1, so 0 stays gdb's "any" and CPU 0's
idle task (init_task, pid 0) is thread 1.  The other CPUs' idle tasks also
have pid 0; CPU n's gets IDLE_TID_BASE + n, above every pid + 1 (pids stay
below PID_MAX_DEFAULT), so each idle task is a thread of its own.

Registers are debugger/tasks.py's: live for a task that is some CPU's current
task, as Linux saved them (KGDB's reconstruction) for a switched-out one.
Memory is the machine's RAM; an address outside it is EFAULT.

Run control goes through the debugger's engine (debugger/engine.py).  Without
one (``engine=None``) the target is the settled machine a boot leaves: every
CPU idle, nothing to run, so ``continue`` waits, as an idle kernel does, until
Ctrl-C; stepping and breakpoints need the engine and are refused.
"""

import struct
import threading

from debugger.ps import task_state_char
from debugger.tasks import all_tasks, task_registers
from emu.memory import BadAddress
from emu.segment import GDT_ENTRIES
from gdbstub.target import EFAULT, EINVAL, ENOENT, SIGINT, Stop, Target, TargetError
from kernel_model.percpu import per_cpu
from kernel_model.pid import PID_MAX_DEFAULT

IDLE_TID_BASE = PID_MAX_DEFAULT + 1
NO_ENGINE = "needs the debugger's engine (debugger/engine.py), which this build does not have yet"


def thread_id(pid: int, cpu: int) -> int:
    """pid + 1; CPU n's idle task (pid 0, n >= 1): IDLE_TID_BASE + n."""
    return IDLE_TID_BASE + cpu if pid == 0 and cpu > 0 else pid + 1


class KernelTarget(Target):
    def __init__(self, kern, engine=None, exec_path: str | None = None, monitor=None):
        self.kern, self.engine = kern, engine
        self.exec_path = exec_path
        self.monitor_command = monitor
        self._table: dict[int, tuple] | None = None  # tid -> (task, cpu), rebuilt per stop
        self._stop = Stop(1, core=0)
        self._stopped_cb = None
        self._interrupted = threading.Event()

    # -- threads ----------------------------------------------------------------

    def table(self) -> dict[int, tuple]:
        if self._table is None:
            self._table = {thread_id(t.pid, cpu): (t, cpu) for t, cpu in all_tasks(self.kern)}
        return self._table

    def _task(self, tid: int):
        entry = self.table().get(tid)
        if entry is None:
            raise TargetError(f"no thread {tid}", ENOENT)
        return entry

    def threads(self) -> list[int]:
        return list(self.table())

    def thread_alive(self, tid: int) -> bool:
        return tid in self.table()

    def thread_extra_info(self, tid: int) -> str:
        """``kthreadd pid 2 S cpu0``: comm, pid, ps's state letter, the task's CPU."""
        task, cpu = self._task(tid)
        comm = task.comm.decode(errors="replace")
        return f"{comm} pid {task.pid} {task_state_char(task)} cpu{cpu}"

    def current_stop(self) -> Stop:
        return self._stop

    def stop_on_cpu(self, cpu: int, **fields) -> Stop:
        """A stop of CPU ``cpu``'s current task."""
        task = self.kern.current(cpu)
        return Stop(thread_id(task.pid, cpu), core=cpu, **fields)

    # -- registers and memory -----------------------------------------------------

    def registers(self, tid: int) -> dict:
        task, _ = self._task(tid)
        return task_registers(self.kern, task)

    def write_registers(self, tid: int, values: dict) -> None:
        raise TargetError("writing registers " + NO_ENGINE, EINVAL)

    def read_memory(self, addr: int, length: int) -> bytes:
        try:
            return self.kern.mem.read(addr, length)
        except BadAddress as err:
            raise TargetError(str(err), EFAULT) from None

    def write_memory(self, addr: int, data: bytes) -> None:
        try:
            self.kern.mem.write(addr, data)
        except BadAddress as err:
            raise TargetError(str(err), EFAULT) from None
        self.kern.machine.forget_code(addr, addr + len(data))  # stores into code are coherent

    # -- run control ------------------------------------------------------------

    def insert_breakpoint(self, kind: int, addr: int, length: int) -> None:
        raise TargetError("breakpoints " + NO_ENGINE, EINVAL)

    def remove_breakpoint(self, kind: int, addr: int, length: int) -> None:
        raise TargetError("breakpoints " + NO_ENGINE, EINVAL)

    def resume(self, actions, stopped) -> None:
        if any(a.kind == "s" for a in actions):
            raise TargetError("stepping " + NO_ENGINE, EINVAL)
        self._table = None
        self._stopped_cb = stopped
        self._interrupted.clear()

    def interrupt(self) -> None:
        self._interrupted.set()

    def wait(self) -> None:
        """The settled machine runs (idles) until interrupted; then it stops where
        CPU 0 is, with SIGINT, and the client that resumed it hears of it."""
        self._interrupted.wait()
        self._interrupted.clear()
        self._stop = self.stop_on_cpu(0, signal=SIGINT)
        callback, self._stopped_cb = self._stopped_cb, None
        if callback is not None:
            callback(self._stop)

    def detach(self) -> None:
        self._table = None
        self._stopped_cb = None
        self._interrupted.clear()

    def exec_file(self) -> str | None:
        return self.exec_path

    def monitor(self, command: str) -> str:
        words = command.split()
        if words == ["info", "gdt"]:
            return "\n".join(gdt_lines(self.kern, self._stop.core or 0)) + "\n"
        if self.monitor_command is None:
            raise TargetError(f"unknown monitor command {command!r}")
        return self.monitor_command(command)


def gdt_lines(kern, cpu: int) -> list[str]:
    """CPU ``cpu``'s GDT: each present descriptor's selector, base, limit, type."""
    base, _limit = kern.machine.cpus[cpu].gdtr
    lines = [f"CPU {cpu} GDT at {base:#010x} (per_cpu {per_cpu(kern, cpu).addr:#010x})"]
    for i in range(GDT_ENTRIES):
        lo, hi = struct.unpack("<II", kern.mem.read(base + 8 * i, 8))
        if not hi & (1 << 15):
            continue  # not present
        seg_base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000)
        limit = (lo & 0xFFFF) | (hi & 0xF0000)
        if hi & (1 << 23):
            limit = (limit << 12) | 0xFFF
        kind = "code" if hi & (1 << 11) else "data"
        dpl = (hi >> 13) & 3
        lines.append(
            f"  {i:2d} sel {i * 8:#06x} base {seg_base:#010x} limit {limit:#010x} {kind} dpl {dpl}"
        )
    return lines
