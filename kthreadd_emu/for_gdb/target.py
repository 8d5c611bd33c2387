"""The emulated kernel as a gdb target: every task is a gdb thread, run control
is the debugger's engine (debugger/engine.py).

Thread ids: a task's id is its pid + 1, so 0 stays gdb's "any" and CPU 0's
idle task (init_task, pid 0) is thread 1.  The other CPUs' idle tasks also
have pid 0; CPU n's gets IDLE_TID_BASE + n, above every pid + 1 (pids stay
below PID_MAX_DEFAULT), so each idle task is a thread of its own.

Registers are debugger/tasks.py's: live for a task that is some CPU's current
task, as Linux saved them (KGDB's reconstruction) for a switched-out one.
Memory is the machine's RAM; an address outside it is EFAULT.

Run control, in the engine's style: ``serve(server)`` runs the machine under
the engine; at every stop the engine calls ``_engine_stopped``, which sends the
stop reply and runs the packet loop (``server.serve_stopped``) until gdb
resumes (``c``/``s``/``vCont``: an engine ``cont`` or ``stepi``; ``bc``/``bs``:
``reverse_continue`` or ``reverse_stepi``), detaches or kills.  Going back hands
the session to a checkpoint, a copy of this process forked earlier
(debugger/timeline.py): it takes the server over (its helper threads, the
stub's state of gdb's session, in the engine's message) and sends the stop
reply where it arrives.  A new client's history starts when it attaches (a
copy forked before it has no socket for it).  A step of a thread that is on a
CPU stops after that CPU's next instruction (after a context switch there, the
stop names the thread switched to, as a step on QEMU's CPU threads does); a
step of a switched-out thread stops after its first instruction once it runs
again; ``vCont;s`` without a thread, after the machine's next instruction.
The other CPUs are not held (the machine runs its CPUs in turn).  An idle
machine (every CPU in cpu_idle) waits for work, as an idle kernel does, until
Ctrl-C; a step there ends at once where it was (cpu_idle is Python: there is
no instruction to step).  A reverse step of a thread that is on a CPU goes
back one instruction of that CPU, of any other thread one of the machine.
"""

import struct
import threading
from dataclasses import replace

from debugger.engine import Debugger, DebuggerError, QuitDebugger
from debugger.ps import task_state_char
from debugger.tasks import all_tasks, sleeping_registers
from emu.memory import BadAddress
from emu.segment import GDT_ENTRIES
from gdbstub.server import KILLED
from gdbstub.target import (
    EFAULT,
    EINVAL,
    ENOENT,
    SIGINT,
    SIGSEGV,
    SIGXCPU,
    Stop,
    Target,
    TargetError,
)
from gdbstub.tdesc import GENERAL
from kernel_model.percpu import per_cpu
from kernel_model.pid import PID_MAX_DEFAULT
from kernel_model.process_32 import task_pt_regs

IDLE_TID_BASE = PID_MAX_DEFAULT + 1
IDLE_WAIT = 0.05  # seconds an idle machine sleeps between looks for work or Ctrl-C
WATCH_KINDS = {2: "write", 3: "read", 4: "access"}
WATCH_REASONS = {"watchpoint": "watch", "rwatch": "rwatch", "awatch": "awatch"}
BREAK_REASONS = {0: "swbreak", 1: "hwbreak"}


def thread_id(pid: int, cpu: int) -> int:
    """pid + 1; CPU n's idle task (pid 0, n >= 1): IDLE_TID_BASE + n."""
    return IDLE_TID_BASE + cpu if pid == 0 and cpu > 0 else pid + 1


class KernelTarget(Target):
    def __init__(self, kern, exec_path: str | None = None, monitor=None):
        self.kern = kern
        self.engine = Debugger(kern, self._engine_stopped)
        self.engine.ui_state = (self._save_session, self._restore_session)
        self.exec_path = exec_path
        self.monitor_command = monitor
        self.server = None
        self._stop = self.stop_on_cpu(0)
        self._stopped_cb = None  # the session waiting for a stop reply
        self._interrupted = threading.Event()  # Ctrl-C since the last resume
        self._stepping = False
        self._step_on: tuple | None = None  # ("cpu", n) or ("thread", tid); None: any
        self._breaks: dict[tuple, int] = {}  # (Z kind, addr, length) -> engine breakpoint
        self._forget()

    def _forget(self) -> None:
        """The machine moved (or was written): what was read of it is stale."""
        self._table: dict[int, tuple] | None = None  # tid -> (task, cpu)
        self._running: dict[int, int] | None = None  # task address -> the CPU it is on
        self._regs: dict[int, dict] = {}

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

    def running_cpu(self, task) -> int | None:
        """The CPU whose current task ``task`` is (one look at every CPU per stop)."""
        if self._running is None:
            kern = self.kern
            self._running = {kern.current_addr(c): c for c in range(len(kern.machine.cpus))}
        return self._running.get(task.addr)

    def threads(self) -> list[int]:
        return list(self.table())

    def thread_alive(self, tid: int) -> bool:
        return tid in self.table()

    def thread_extra_info(self, tid: int) -> str:
        """``kthreadd pid 2 S cpu0``: comm, pid, ps's state letter, the task's CPU."""
        task, cpu = self._task(tid)
        comm = task.comm.decode(errors="replace")
        return f"{comm} pid {task.pid} {task_state_char(task)} cpu{cpu}"

    def thread_core(self, tid: int) -> int | None:
        return self._task(tid)[1]

    def current_stop(self) -> Stop:
        return self._stop

    def stop_on_cpu(self, cpu: int, **fields) -> Stop:
        """A stop of CPU ``cpu``'s current task."""
        task = self.kern.current(cpu)
        return Stop(thread_id(task.pid, cpu), core=cpu, **fields)

    # -- registers and memory -----------------------------------------------------

    def registers(self, tid: int) -> dict:
        """debugger/tasks.py's task_registers, with the running CPUs looked up once
        per stop and each thread's registers kept until the machine moves."""
        regs = self._regs.get(tid)
        if regs is None:
            task, _ = self._task(tid)
            cpu = self.running_cpu(task)
            live = self.kern.machine.cpus[cpu] if cpu is not None else None
            regs = sleeping_registers(self.kern, task) if live is None else live.regs()
            regs["orig_eax"] = task_pt_regs(self.kern, task).orig_ax
            self._regs[tid] = regs
        return regs

    def write_registers(self, tid: int, values: dict) -> None:
        """The live registers of the CPU the thread runs on: general registers only
        (a segment register or orig_eax that would change is refused; the x87
        registers, which the machine does not have, are ignored)."""
        task, _ = self._task(tid)
        cpu = self.running_cpu(task)
        if cpu is None:
            raise TargetError(f"thread {tid} is switched out: its registers are what "
                              "Linux saved, not a CPU's", EINVAL)  # fmt: skip
        now = self.registers(tid)
        for name, value in values.items():
            if name not in GENERAL and name in now and value != now[name]:
                raise TargetError(f"{name} cannot be written (general registers only)", EINVAL)
        live = self.kern.machine.cpus[cpu]
        if live.loaded:
            self.engine.about_to_write()  # stopped inside an instruction's hook: cut there
        for name in GENERAL:
            if name in values and values[name] != now[name]:
                live.write(name, values[name] & 0xFFFFFFFF)
        self._forget()

    def read_memory(self, addr: int, length: int) -> bytes:
        try:
            return self.kern.mem.read(addr, length)
        except BadAddress as err:
            raise TargetError(str(err), EFAULT) from None

    def write_memory(self, addr: int, data: bytes) -> None:
        try:
            self.engine.write_memory(addr, data)  # stores into code are coherent
        except DebuggerError as err:
            raise TargetError(str(err), EFAULT) from None
        self._forget()

    # -- breakpoints ----------------------------------------------------------------

    def insert_breakpoint(self, kind: int, addr: int, length: int) -> None:
        """Z0/Z1: an engine breakpoint; Z2/Z3/Z4: an engine watchpoint."""
        key = (kind, addr, length)
        if self._live(key):
            return  # gdb inserts again what is there: one is enough
        try:
            if kind in BREAK_REASONS:
                bp = self.engine.break_at(addr)
            else:
                bp = self.engine.watch(addr, length, WATCH_KINDS[kind])
        except DebuggerError as err:
            raise TargetError(str(err), EINVAL) from None
        self._breaks[key] = bp.number

    def remove_breakpoint(self, kind: int, addr: int, length: int) -> None:
        """A breakpoint deleted behind gdb's back (``monitor delete``) is gone
        already: removing it is done."""
        key = (kind, addr, length)
        if self._live(key):
            self.engine.delete(self._breaks[key])
        self._breaks.pop(key, None)

    def _live(self, key: tuple) -> bool:
        """gdb's breakpoint ``key`` is still the engine's (no ``monitor delete`` took it)."""
        number = self._breaks.get(key)
        return number is not None and any(bp.number == number for bp in self.engine.breakpoints)

    def _break_kind(self, number: int) -> int | None:
        return next((key[0] for key, n in self._breaks.items() if n == number), None)

    # -- run control ------------------------------------------------------------

    def serve(self, server) -> None:
        """Run the machine under the engine, talking with gdb at every stop, until
        gdb kills it."""
        self.server = server
        timeline = self.engine.timeline
        if timeline is not None:
            timeline.fork_locks.append(server.fork_lock)
            timeline.on_leave.append(server.retire)
            self.engine.on_woken.append(server.after_fork)
        self.engine.start()

    def client_attached(self) -> None:
        self.engine.forget_history()

    def _save_session(self):
        """What a checkpoint taking the session over needs of gdb's (picklable)."""
        session = self.server.session
        kept = None if session is None else (session.acks, session.g_thread, session.c_thread)
        return self._breaks, self._stepping, self._step_on, kept

    def _restore_session(self, state) -> None:
        self._breaks, self._stepping, self._step_on, kept = state
        self._interrupted = threading.Event()  # the forked one's lock may be held
        session = self.server.session
        if session is not None and kept is not None:
            session.acks, session.g_thread, session.c_thread = kept
            session.running = True
        self._stopped_cb = session.stopped if session is not None else None

    def resume(self, actions, stopped) -> None:
        """An engine cont or stepi; the stop reply goes out at the next stop."""
        steps = [a for a in actions if a.kind == "s"]
        if not steps and not any(a.kind == "c" for a in actions):
            stopped(replace(self._stop, signal=0))  # only "t": nothing runs
            return
        self._stepping, self._step_on = bool(steps), None
        if steps and steps[0].tid is not None:
            task, _ = self._task(steps[0].tid)
            cpu = self.running_cpu(task)
            self._step_on = ("thread", steps[0].tid) if cpu is None else ("cpu", cpu)
            if cpu is not None:
                self.engine.select_cpu(cpu)
        self._stopped_cb = stopped
        self._interrupted.clear()
        self._run_on()

    def _run_on(self) -> None:
        if self._stepping:
            self.engine.stepi()
        else:
            self.engine.cont()

    def reverse(self, kind: str, tid: int, stopped) -> None:
        """``bc``: the engine's reverse_continue; ``bs``: its reverse_stepi, on the
        thread's CPU if it is on one.  Neither returns: this process hands the
        session to a checkpoint, which replies where it stops."""
        self._stepping, self._step_on = kind == "s", None
        self._stopped_cb = stopped
        self._interrupted.clear()
        try:
            if kind == "c":
                self.engine.reverse_continue()
            task, _ = self._task(tid)
            self.engine.reverse_stepi(cpu=self.running_cpu(task))
        except DebuggerError:  # no history yet: where it is, at its start
            self._stopped_cb = None
            stopped(replace(self._stop, replaylog="begin"))

    def interrupt(self) -> None:
        """Ctrl-C, from the server's reader thread: the engine stops at its next
        instruction (an idle machine at its next look)."""
        self._interrupted.set()
        self.engine.interrupt()

    def _engine_stopped(self, stop) -> None:
        """The engine's on_stop: report the stop and serve gdb, or run on."""
        self._forget()
        report = self._report(stop)
        if report is None:
            return  # ran on: an idle machine waits, a step of another thread goes on
        self._stop = report
        callback, self._stopped_cb = self._stopped_cb, None
        if callback is not None:
            callback(report)
        outcome = self.server.serve_stopped(self)
        if outcome == KILLED:
            raise QuitDebugger
        if self._interrupted.is_set():
            # Ctrl-C (or a next client after a detach) came while we were still
            # stopped, which the engine ignores: stop after one instruction and
            # report SIGINT.
            self.engine.stepi()

    def _report(self, stop) -> Stop | None:
        """The gdb stop for an engine stop, or None to run on."""
        tid = thread_id(stop.pid, stop.cpu)
        interrupted = self._interrupted.is_set()
        if stop.reason == "idle" and self._stepping and not interrupted:
            return Stop(tid, core=stop.cpu)  # the idle loop runs no instruction to step
        if stop.reason == "idle" and not interrupted:
            if not self._interrupted.wait(IDLE_WAIT):
                self._run_on()
                return None
            interrupted = True
        if stop.reason == "signal" or (interrupted and stop.reason in ("idle", "step")):
            return Stop(tid, SIGINT, core=stop.cpu)
        if stop.reason == "step" and self._step_on not in (
            None,
            ("cpu", stop.cpu),
            ("thread", tid),
        ):
            self.engine.stepi()  # another CPU (or thread) ran an instruction: not ours yet
            return None
        if stop.reason == "history":
            return Stop(tid, core=stop.cpu, replaylog="begin")
        if stop.reason == "breakpoint" and stop.breakpoint is not None:
            reason = BREAK_REASONS.get(self._break_kind(stop.breakpoint.number))
            return Stop(tid, reason=reason, core=stop.cpu)
        if stop.reason == "watchpoint":
            reason = WATCH_REASONS[stop.breakpoint.kind]
            return Stop(tid, reason=reason, address=stop.watch[0], core=stop.cpu)
        if stop.reason == "fault":
            return Stop(tid, SIGSEGV, core=stop.cpu)
        if stop.reason == "lockup":
            # The kernel's report on gdb's console, and SIGXCPU, the signal of a
            # spent CPU-time limit (RLIMIT_CPU): gdb says "CPU time limit exceeded".
            return Stop(tid, SIGXCPU, core=stop.cpu, output="".join(f"{t}\n" for t in stop.text))
        return Stop(tid, core=stop.cpu)

    def detach(self) -> None:
        """The client left: its breakpoints go, the machine runs on without it."""
        for key in list(self._breaks):
            self.remove_breakpoint(*key)
        self._stopped_cb = self._step_on = None
        self._stepping = False
        self._interrupted.clear()
        self.engine.cont()

    def exec_file(self) -> str | None:
        return self.exec_path

    def monitor(self, command: str) -> str:
        words = command.split()
        if words == ["info", "gdt"]:
            return "\n".join(gdt_lines(self.kern, self._stop.core or 0)) + "\n"
        if self.monitor_command is None:
            raise TargetError(f"unknown monitor command {command!r}")
        try:
            return self.monitor_command(command)
        finally:
            self._forget()  # `set var`, `task N`: what was read may have moved


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
