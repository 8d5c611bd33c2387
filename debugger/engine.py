"""Run control for the emulated kernel, in the style of pdb: the machine runs,
and when something the user asked for happens (a breakpoint, a finished step,
a watchpoint, a fault, Ctrl-C) the engine calls ``on_stop(stop)`` with the
whole machine consistent and inspectable.  ``on_stop`` is the user
interface's loop (the shell's prompt, the gdb stub's packet loop); it reads
state through the engine and returns after calling one of the resuming
methods (``cont``, ``stepi``, ``step``, ...), and the machine goes on from
exactly where it stopped.  Nothing is restarted for the debugger, so a
session runs the same instructions in the same order as a plain run.

Paying only for what is asked (debugger/modes.py).  Guest code runs at the
plain run's speed: a breakpoint is a code hook on its one address, a
watchpoint a memory hook over the watched bytes, a condition is evaluated
only where its breakpoint is; ``stepi N``, going back to an instruction and
the checkpoints are deadlines on the machine's clock (emu/clock.py), which
cuts the run at exactly that instruction.  Only the steps that must look at
every instruction (a few ``stepi``, ``step``/``next`` by source line, the
first instruction after a watchpoint's store) put a Python hook on every
instruction, for as long as they run; Python kernel code is traced only
while a mode needs it.

Where stops happen.  A stop in guest code is before an instruction: between
two runs of the emulator, where the hook that finds it stopped the CPU
(``Clock.pause``; so are a deadline's stop and Ctrl-C's, ``Clock.alert``: at
the next boundary), or, for a step, in the hook on every instruction itself
(stepping's hot path: the instruction runs when ``on_stop`` returns; a write
at the stop ends the run there first, ``_cut``).  A stop in Python kernel
code (a Python breakpoint, a line step) happens inside the Python code, in
its trace function.  Either way the instruction count a
stop reports (``icount``) is the machine's clock: every guest instruction
begun on any CPU, and a call into a Python kernel function (one
"instruction" ``[python] name``, as stepi shows it); py_ret and a thunk's own
``ret`` (the glue that returns from Python) are not counted.

Interface (the shell and the gdb stub use only this):

    Debugger(kern, on_stop)                 on_stop(stop: Stop) -> None
    .start()                                run the machine under the debugger until
                                            the user quits (on_stop raises QuitDebugger)
    Breakpoints
    .break_at(spec, condition=None, temporary=False) -> Breakpoint
        spec: a symbol ("kernel_thread_helper"), "symbol+off", an address
        (int or "0x..."), or a Python kernel function by name ("copy_process");
        BreakpointRefused where the engine never stops (py_ret)
    .delete(number=None), .enable(number), .disable(number)
    .breakpoints -> list[Breakpoint]
    .watch(addr, length=4, kind="write"|"read"|"access") -> Breakpoint
    Resuming (call from on_stop, then return)
    .cont(), .stepi(n=1), .nexti(n=1), .step(), .next(), .finish(),
    .until(spec=None), .advance(spec)
    .reverse_stepi(n=1), .reverse_nexti(n=1), .reverse_continue(),
    .reverse_finish()                       (debugger/reverse.py)
    .interrupt()                            from a signal handler or another thread
    State (while stopped)
    .selected_cpu, .select_cpu(n), .selected_task, .select_task(pid)
    .task(pid=None) -> task_struct view     pid 0: the selected CPU's idle task
    .registers(pid=None) -> dict            live for a running task, as Linux
                                            saved them for a sleeping one
    .write_register(name, value, pid=None)  a running task's (its CPU's) general register
    .read_memory(addr, n) -> bytes, .write_memory(addr, data)  (into code: what runs next)
    .frames(pid=None) -> list[Frame]        guest and Python frames, innermost first
    .icount -> int
    .python_frame -> frame | None           the Python frame stopped in, if any
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

from unicorn import UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE

from debugger.errors import BreakpointRefused, DebuggerError, QuitDebugger
from debugger.modes import (
    CONTINUE,
    REPLAYS,
    GuestStep,
    LineKey,
    LineNext,
    PyCaller,
    PyFinish,
    PyNext,
    PyStep,
    ReturnTo,
    Scan,
    StepCount,
    stepping,
)
from debugger.reverse import GoingBack
from debugger.tasks import TaskError, find_task, running_on, task_registers
from debugger.timeline import Timeline
from emu.cpu import GPRS
from emu.disasm import disassemble_one
from emu.memory import PAGE_OFFSET, BadAddress
from kernel_model.consts import THREAD_SIZE
from kernel_model.kernel_errors import SoftLockup
from kernel_model.main import rest_init
from kernel_model.runtime import CallGuest, Idle, Relax

MODEL_DIR = Path(__file__).resolve().parent.parent / "kernel_model"
RUNTIME_FILE = str(MODEL_DIR / "runtime.py")
# Modes that look at every guest instruction (a Python hook on each one).
_EVERY_INSTRUCTION = (PyStep, GuestStep, LineNext)
# Modes in which Python kernel code is traced line by line.
_PYTHON_MODES = (PyStep, PyNext, PyFinish, PyCaller)
# What Python kernel code's stores are checked against (after each of its lines).
_WRITE_WATCHES = ("watchpoint", "awatch")


# What a kernel generator yields when it suspends (a yield, not a return).
Suspension = CallGuest | Idle | Relax


@dataclass
class Breakpoint:
    number: int
    kind: str  # "breakpoint", "watchpoint" (write), "rwatch", "awatch"
    spec: str
    addr: int | None = None  # guest address (breakpoints, watched memory)
    code: object = None  # a Python function's code object
    length: int = 0
    condition: str | None = None
    enabled: bool = True
    temporary: bool = False
    hits: int = 0
    since: int = 0  # the instruction count from which every hit of it is in the hits log
    handles: list = field(default_factory=list)
    location: str = ""  # as gdb shows it: "0xc01000a7: file entry_32.S" / "copy_thread"


@dataclass
class Stop:
    """Why the machine stopped, and where."""

    reason: str  # start, breakpoint, watchpoint, step, signal, fault, lockup, overrun, idle
    cpu: int
    pid: int
    pc: int  # guest EIP (for a Python stop: the thunk of the running Python call)
    python: tuple | None = None  # (file, line, function) when stopped in Python code
    breakpoint: Breakpoint | None = None
    watch: tuple | None = None  # (address, old, new) for a watchpoint
    text: list = field(default_factory=list)  # the oops, for a fault
    message: str = ""  # gdb's line for it ("Breakpoint 1, 0xc01000a7 in kernel_thread_helper ()")
    python_frame: object = None  # the Python frame object, when stopped in Python code


@dataclass
class Frame:
    """One frame of a backtrace: guest (``pc``) or Python (``python`` = file, line, func)."""

    pc: int
    sp: int
    python: tuple | None = None
    name: str = ""  # the guest symbol (symbol+off)
    frame_id: int = 0  # a Python frame's identity (to show each frame once)

    def __str__(self) -> str:
        if self.python is not None:
            file, line, func = self.python
            return f"{func} () at {_short(file)}:{line}"
        return f"{self.pc:#010x} in {self.name} ()"


class Debugger(GoingBack):
    def __init__(self, kern, on_stop):
        self.kern = kern
        self.machine = kern.machine
        self.clock = kern.machine.clock
        self.on_stop = on_stop
        self._bps: dict[int, Breakpoint] = {}
        self._next_number = 1
        self._guest_bps: dict[int, list[Breakpoint]] = {}  # address -> breakpoints
        self._py_bps: dict[object, list[Breakpoint]] = {}  # code object -> breakpoints
        self._mode = CONTINUE
        self._interrupted = False
        self._pending = None  # (cpu, callback): at the boundary before its next instruction
        self._stopping = False
        self._position = None  # the instruction count of the stop, while stopped
        self._boundary = False  # ... stopped before an instruction (not inside Python code)
        self._in_hook = False  # ... inside that instruction's hook (it has begun)
        self._target = 0  # the count a StepCount stops at
        self._resume_at = None  # (cpu, count, pc): the instruction the last stop was before
        self.selected_cpu = 0
        self.selected_task = 0  # CPU 0's first task, until a stop selects one
        self.python_frame = None
        self._stopped_task = None  # the current task of the stop's CPU, while stopped
        self._names: dict[int, str] = {}  # pc -> the symbol a stop's line names
        self._names_key = None
        self.last_stop: Stop | None = None
        self.timeline = Timeline() if Timeline.available() else None
        self.ui_state = (
            None  # (save() -> picklable, restore(state)): the shell's, kept across going back
        )
        self.exit_status = 0
        self.on_woken = []  # called when a checkpoint takes the session over
        self._scan_hits = []  # while scanning back: the Gotos to each hit found
        self._hits: list[tuple] = []  # (count, breakpoint, the way back if not to count)
        self._hits_floor = 0  # the log holds no hit before this count
        self._attach()

    # -- hooks ---------------------------------------------------------------

    def _attach(self) -> None:
        m = self.machine
        m.call_observers.append(self._on_python_call)
        self.kern.register_trace("oops", self._on_oops)
        self.kern.register_trace("stack_overrun", self._on_overrun)
        self.clock.on_alert = self._on_alert
        self._thunks = (m.map.thunks, m.map.thunks + m.map.thunks_size)
        self._exported = set(m.python_functions.values())  # what guest code calls in Python
        self._log_mark = len(self.kern.log)
        self._every = None  # the hook on every instruction, while a mode needs it
        self._every_c = self._c_hook(self._every_instruction, hot=True)
        self._sites: dict[int, tuple] = {}  # address -> its code hook (breakpoints, returns)
        self._extra_sites = False  # some of them are the mode's, not breakpoints
        self._site_c = self._c_hook(self._at_site)
        self._deadline = None  # the mode's, on the clock
        self._checkpoints = None  # the next look at whether a checkpoint is due

    def _c_hook(self, body, hot=False):
        """A code hook's C callback around ``body(cpu, addr)``: an exception cannot
        cross C, so it is kept for emu_start to raise, as the binding does.  ``hot``
        (the hook on every instruction): the glue and the instruction the last stop
        was before are passed over here, before any other call."""
        machine, clock = self.machine, self.clock
        thunks = self._thunks

        def hook(_uch, addr, _size, _user):
            try:
                if hot:
                    if thunks[0] <= addr < thunks[1]:
                        return
                    at = self._resume_at
                    if at is not None and at[2] == addr and at == (
                        machine.loaded.index, clock.now() - 1, addr
                    ):  # fmt: skip
                        return
                body(machine.loaded, addr)
            except BaseException as err:  # noqa: BLE001 - emu_start raises it when it returns
                uc = machine.uc
                if uc._hook_exception is None:
                    uc._hook_exception = err
                uc.emu_stop()

        return hook

    def _apply(self) -> None:
        """Give the mode what it needs: its deadline, its hooks, Python tracing."""
        mode = self._mode
        kind = type(mode)
        if (
            kind is StepCount
            and mode.each
            and self._every is not None
            and self._deadline is None
            and not self._extra_sites
        ):  # the next stepi: its hook is there, nothing else to change
            if sys.gettrace() is not None or self._py_bps:
                self._arm_python()
            return
        if self._deadline is not None:
            self.clock.cancel(self._deadline)
            self._deadline = None
        if kind is StepCount and not mode.each:
            self._deadline = self.clock.call_at(self._target, self._count_reached)
        elif kind in REPLAYS:
            self._replay_deadline(mode)
        every = self._looks_at_every() or self._pending is not None
        if every is not (self._every is not None):
            self._hook_every(every)
            self._place_sites(self._mode_sites(mode))
        elif self._extra_sites or kind in (ReturnTo, Scan):
            self._place_sites(self._mode_sites(mode))
        self._arm_python()

    def _mode_sites(self, mode) -> set[int]:
        return {mode.address} if type(mode) is ReturnTo else self._scan_sites(mode)

    def _looks_at_every(self) -> bool:
        mode = self._mode
        if type(mode) is Scan:
            return self._scan_needs_every(mode.what)
        return type(mode) in _EVERY_INSTRUCTION or type(mode) is StepCount and mode.each

    def _hook_every(self, wanted: bool) -> None:
        m = self.machine
        if wanted and self._every is None:
            self._every = m.hook_c(self._every_c, PAGE_OFFSET, m.map.end - 1)
        elif not wanted and self._every is not None:
            m.unhook_c(self._every)
            self._every = None

    def _place_sites(self, extra=frozenset()) -> None:
        """A code hook at each address a breakpoint or the mode (``extra``) stops at
        (the thunks' are the call observer's); none while the hook on every
        instruction looks at each one (but in a replay, which looks only at its
        own)."""
        self._extra_sites = bool(extra)
        wanted = set()
        if self._every is None or type(self._mode) in REPLAYS:
            wanted = {a for a in self._guest_bps if not self._in_thunks(a)} | extra
        m = self.machine
        for addr in [a for a in self._sites if a not in wanted]:
            m.unhook_c(self._sites.pop(addr))
        for addr in wanted - self._sites.keys():
            self._sites[addr] = m.hook_c(self._site_c, addr, addr)

    def _in_thunks(self, addr: int) -> bool:
        return self._thunks[0] <= addr < self._thunks[1]

    def _resuming(self, cpu, addr: int) -> bool:
        """Is this the instruction the last stop was before (its hooks ran then)?"""
        return self._resume_at == (cpu.index, self.clock.now() - 1, addr)

    def _every_instruction(self, cpu, addr: int) -> None:
        """Each guest instruction but the glue and the one the last stop was before
        (``_c_hook`` passes over those)."""
        clock, mode = self.clock, self._mode
        kind = type(mode)
        if kind is StepCount and not clock.alerted and self._pending is None:
            here = clock.now() - 1  # stepping's hot path: the instruction counted once
            bp = self._breakpoint_hit(cpu, addr, here) if addr in self._guest_bps else None
            if here >= self._target:
                self._stop(cpu, "step", addr, boundary=True, in_hook=True, count=here)
            elif bp is not None:
                self._site_stop(cpu, addr, bp, in_hook=True)
            return
        if clock.alerted:
            clock.pause(None)  # Ctrl-C: served at this boundary
            return
        if self._pending is not None and self._take_pending(cpu):
            return
        if kind is Scan:
            self._scan_instruction(cpu, addr)
            return
        bp = self._breakpoint_hit(cpu, addr) if addr in self._guest_bps else None
        if (
            kind is StepCount
            and self.clock.now() > self._target
            or kind is GuestStep
            or kind is PyStep
            and (mode.line is None or self._left_line(cpu, addr, mode.line))
            or kind is LineNext
            and self._next_line(cpu, addr)
        ):
            # A step ends before this instruction: stopped right here, in the hook
            # (stepping's hot path; a write at the stop cuts the run: ``_cut``).
            self._stop(cpu, "step", addr, boundary=True, in_hook=True)
        elif bp is not None or kind is ReturnTo and addr == mode.address:
            self._site_stop(cpu, addr, bp, in_hook=True)

    def _at_site(self, cpu, addr: int) -> None:
        if type(self._mode) in REPLAYS:
            self._replayed_site(cpu, addr)
            return
        bp = self._breakpoint_hit(cpu, addr)
        if not self._resuming(cpu, addr):
            self._site_stop(cpu, addr, bp, in_hook=False)

    def _site_stop(self, cpu, addr: int, bp, in_hook: bool) -> None:
        """A breakpoint's address, or the return a mode waits for: stop here?"""
        mode = self._mode
        if type(mode) is ReturnTo and addr == mode.address and cpu.read("esp") > mode.sp:
            self._stop_here(cpu, "step", addr, in_hook)
        elif bp is not None:
            bp.hits += 1
            self._stop_here(cpu, "breakpoint", addr, in_hook, breakpoint=bp)

    def _stop_here(self, cpu, reason: str, addr: int, in_hook: bool, **details) -> None:
        """Before this instruction: in its hook (the hook on every instruction), or
        between runs (any other hook)."""
        if in_hook:
            self._boundary_stop(cpu, reason, addr, details, in_hook=True)
        else:
            self._pause(cpu, reason, addr, **details)

    def _on_python_call(self, cpu, addr) -> None:
        """A guest call into a Python function is about to run (its thunk)."""
        mode = self._mode
        if type(mode) in REPLAYS:
            self._replayed_site(cpu, addr)
            return
        bp = self._breakpoint_hit(cpu, addr)
        if self._resuming(cpu, addr) or self._take_pending(cpu):
            return
        if (
            type(mode) is StepCount
            and mode.each
            and self.clock.now() > self._target
            or type(mode) is LineNext
            and self._next_line(cpu, addr)
        ):
            self._stop(cpu, "step", addr, boundary=True, in_hook=True)
        elif bp is not None:
            bp.hits += 1
            self._pause(cpu, "breakpoint", addr, breakpoint=bp)

    def _take_pending(self, cpu) -> bool:
        """What a memory hook left for this CPU's next instruction: done before it."""
        pending = self._pending
        if pending is None or pending[0] is not cpu:
            return False
        self._pending = None
        self.clock.pause(pending[1])
        return True

    def _pause(self, cpu, reason: str, pc: int, **details) -> None:
        """From a hook: stop before this instruction (it runs when the CPU goes on)."""
        self.clock.pause(lambda c: self._boundary_stop(c, reason, pc, details))

    def _boundary_stop(self, cpu, reason: str, pc: int, details: dict, in_hook=False) -> None:
        bp = details.get("breakpoint")
        if reason == "breakpoint" and bp is not None and bp.temporary:
            self.delete(bp.number)
        self._stop(cpu, reason, pc, boundary=True, in_hook=in_hook, **details)

    def _count_reached(self, cpu) -> None:
        self._deadline = None
        self._stop(cpu, "step", cpu.read("eip"), boundary=True)

    def _on_alert(self, cpu) -> None:
        """Ctrl-C (``interrupt``): at this instruction boundary."""
        if self._interrupted and type(self._mode) not in REPLAYS:
            self._stop(cpu, "signal", cpu.read("eip"), boundary=True)

    def _line_key(self):
        """Where a line step starts: the selected CPU's EIP, or None where there is no
        line (Python, no line table)."""
        if self.python_frame is not None:
            return None
        cpu = self.machine.cpus[self.selected_cpu]
        where = self.machine.source_line(cpu.read("eip"))
        if where is None:
            return None
        return LineKey(cpu.index, self.kern.current_addr(cpu.index), where[0], where[1])

    def _left_line(self, cpu, addr: int, key: LineKey) -> bool:
        """gdb's line step: has the stepping task reached another source line?
        (Other CPUs and tasks running meanwhile do not count.)"""
        if cpu.index != key.cpu or self.kern.current_addr(cpu.index) != key.task:
            return False
        where = self.machine.source_line(addr)
        return where is None or (where[0], where[1]) != (key.file, key.line)

    def _next_line(self, cpu, addr: int) -> bool:
        """Like _left_line, with guest calls made from the line run over."""
        key, ret = self._mode.line, self._mode.ret
        if cpu.index != key.cpu or self.kern.current_addr(cpu.index) != key.task:
            return False
        if ret is not None:
            if addr != ret[0] or cpu.read("esp") <= ret[1]:
                return False
            self._mode = LineNext(key)  # back from the call
        if not self._left_line(cpu, addr, key):
            insn = self._insn(addr)
            if insn.text.startswith("call"):
                self._mode = LineNext(key, (addr + insn.size, cpu.read("esp") - 4))
            return False
        return True

    def _breakpoint_here(self, cpu, addr: int) -> Breakpoint | None:
        """The first enabled breakpoint at ``addr`` whose condition holds."""
        for bp in self._guest_bps.get(addr, ()):
            if bp.enabled and (not bp.condition or self._condition_holds(bp, cpu)):
                return bp
        return None

    def _breakpoint_hit(self, cpu, addr: int, here: int | None = None) -> Breakpoint | None:
        """The breakpoint this instruction (the ``here``th) hits, if any, noted in the
        hits log (going back to it needs no scan: debugger/reverse.py)."""
        bp = self._breakpoint_here(cpu, addr) if addr in self._guest_bps else None
        if bp is not None:
            self._log_hit(self.clock.now() - 1 if here is None else here, bp.number)
        return bp

    def _condition_holds(self, bp: Breakpoint, cpu) -> bool:
        if not bp.condition:
            return True
        return bool(self.evaluate(bp.condition, cpu))

    def evaluate(self, text: str, cpu=None):
        """A condition's value.  The shell installs the expression language here
        (``self.evaluator``): it knows registers, symbols and struct fields."""
        evaluator = getattr(self, "evaluator", None)
        if evaluator is None:
            raise DebuggerError("conditions need an expression evaluator")
        return evaluator(text, cpu)

    def _on_oops(self, task, fault) -> None:
        if type(self._mode) in REPLAYS:
            return
        cpu = self.machine.cpus[self.kern.this_cpu]
        self._stop(cpu, "fault", fault.eip, text=self.kern.log[self._log_mark :])

    def _on_overrun(self, task, report: str) -> None:
        """A guest write reached a thread's STACK_END_MAGIC (the assembly tests'
        watch): the run reports it, so the debugger stops for it."""
        if type(self._mode) not in REPLAYS:
            self._pend("overrun", text=[report])

    def _pend(self, reason: str, **details) -> None:
        """From a memory hook, mid-instruction: stop before the CPU's next one (a
        memory hook cannot stop the CPU itself: Unicorn would run the store again)."""
        self._pend_call(lambda cpu: self._boundary_stop(cpu, reason, cpu.read("eip"), details))

    def _pend_call(self, callback) -> None:
        """``callback(cpu)`` at the boundary before this CPU's next instruction."""
        self._pending = (self.machine.loaded, callback)
        self._hook_every(True)

    # -- stopping --------------------------------------------------------------

    def _stop(
        self,
        cpu,
        reason: str,
        pc: int,
        python=None,
        boundary=False,
        in_hook=False,
        count=None,
        **details,
    ) -> None:
        """Stop: ``boundary``, before an instruction (``in_hook``: inside its hook,
        it has begun; ``count``: its number, if known); else inside Python code."""
        if self._stopping:
            return  # the UI's own reads must not stop again
        self._mode = CONTINUE
        self._interrupted = False  # a Ctrl-C that came while stopping: this stop is it
        self._position = self.clock.now() - in_hook if count is None else count
        self._boundary = boundary
        self._in_hook = in_hook
        self.selected_cpu = cpu.index
        task = self.kern.current(cpu.index)
        self.selected_task = task.pid
        self._stopped_task = (task.pid, task)  # every view finds it by pid: skip the task list
        stop = Stop(reason, cpu.index, self.selected_task, pc, python, **details)
        stop.python_frame = self.python_frame
        stop.message = self._message_for(stop)
        self.last_stop = stop
        self._stopping = True
        try:
            self.on_stop(stop)
        finally:
            self._stopping = False
            self._stopped_task = None
            self.python_frame = None
            self._log_mark = len(self.kern.log)
        self._resume_at = (cpu.index, self._position, pc) if boundary else None
        if self._in_hook:
            mode = self._mode
            if not (type(mode) is StepCount and mode.each or type(mode) in _EVERY_INSTRUCTION):
                self._cut()  # its hook goes: between runs
            self._in_hook = False
        self._position = None
        self._apply()

    def _cut(self) -> None:
        """Stopped in an instruction's hook: end the run before it, so that it runs
        (and is counted) in the next one, as it is now (a new EIP, new code).  A
        user interface writing a live CPU's registers itself calls this first."""
        if self._in_hook:
            self._in_hook = False
            self.clock.pause(None)

    about_to_write = _cut

    @property
    def icount(self) -> int:
        """Instructions executed before the point the machine is stopped at (the
        machine's clock, every CPU)."""
        return self.clock.now() if self._position is None else self._position

    def _message_for(self, stop: Stop) -> str:
        """gdb's one line for a stop."""
        where = (
            f"{stop.python[2]} () at {_short(stop.python[0])}:{stop.python[1]}"
            if stop.python
            else f"{stop.pc:#010x} in {self._name(stop.pc)} ()"
        )
        if stop.reason == "step":
            return where
        head = {
            "breakpoint": _breakpoint_head(stop.breakpoint),
            "signal": "Program received signal SIGINT, Interrupt.\n",
            "history": "No more reverse-execution history.\n",
        }.get(stop.reason, "")
        if stop.reason == "watchpoint":
            bp, (addr, old, new) = stop.breakpoint, stop.watch
            kind = {"watchpoint": "Hardware watchpoint", "rwatch": "Hardware read watchpoint",
                    "awatch": "Hardware access (read/write) watchpoint"}[bp.kind]  # fmt: skip
            values = (
                f"Value = {new:#x}"
                if bp.kind == "rwatch"
                else (f"Old value = {old:#x}\nNew value = {new:#x}")
            )
            return f"\n{kind} {bp.number}: *{addr:#x}\n\n{values}\n{where}"
        if stop.reason == "idle":
            return "The machine is idle: every CPU is in cpu_idle (continue waits for work)."
        if stop.reason == "start" and self._booting:
            return "The machine is stopped before boot (continue boots it)."
        if stop.reason == "start":
            return "The machine is stopped before the run starts (continue runs it)."
        if stop.reason in ("lockup", "overrun"):
            return "\n".join([*stop.text, f"The CPU is stopped at {where}."])
        if stop.reason == "fault":
            return "\n".join([*stop.text, f"The kernel oopsed at {where}."])
        return head + where

    def _name(self, pc: int) -> str:
        """The symbol covering ``pc`` (or its hex), cached: every stepi names one."""
        symbols = self.kern.symbols
        key = (id(symbols.by_name), len(symbols.by_name))  # a table added to or replaced
        if self._names_key != key:
            self._names, self._names_key = {}, key
        name = self._names.get(pc)
        if name is None:
            sym = symbols.lookup(pc)
            name = self._names[pc] = "??" if sym is None else sym.name  # gdb's "??": none
        return name

    # -- Python kernel code ------------------------------------------------------

    def _arm_python(self) -> None:
        """Trace Python kernel code only while something needs it (it is slow)."""
        wanted = (
            bool(self._py_bps)
            or type(self._mode) in _PYTHON_MODES
            or any(b.kind in _WRITE_WATCHES and b.enabled for b in self._bps.values())
        )
        if wanted and sys.gettrace() is None:
            sys.settrace(self._trace)
        elif not wanted and sys.gettrace() == self._trace:
            sys.settrace(None)

    def _trace(self, frame, event, arg):
        caller = frame.f_back
        if not _in_model(frame) or caller is not None and caller.f_code in _LINE_STEP_CODE:
            return None  # not the kernel's, or a line step's own read of the current task
        if event == "call":
            bps = self._py_bps.get(frame.f_code)
            # A fresh call (a resumed generator reports 'call' too, at its yield).
            if bps and frame.f_lineno == frame.f_code.co_firstlineno:
                return self._first_line(bps)
            if self._watches():
                return self._trace
            if caller is not None and caller.f_code.co_filename == RUNTIME_FILE:
                # The glue's own helpers (current_addr, ...) are not steps into the
                # kernel; the functions it runs for guest callers are.
                wanted = frame.f_code.co_name in self._exported
            else:
                wanted = type(self._mode) in _PYTHON_MODES
            return self._trace if wanted else None
        if event == "line":
            self._python_writes(frame)
            self._python_line(frame)
        elif event == "return" and not isinstance(arg, Suspension):
            self._python_return(frame)
        return self._trace

    def _first_line(self, bps):
        def on_line(frame, event, arg):
            if event != "line":
                return on_line
            if type(self._mode) in REPLAYS:
                return self._trace
            cpu = self.machine.cpus[self.kern.this_cpu]
            self.python_frame = frame  # the condition reads this frame's locals
            try:
                bp = next((b for b in bps if b.enabled and self._condition_holds(b, cpu)), None)
            finally:
                self.python_frame = None
            if bp is not None:
                bp.hits += 1
                if bp.temporary:
                    self.delete(bp.number)
                self._python_stop(frame, "breakpoint", breakpoint=bp)
            return self._trace

        return on_line

    def _watches(self) -> list[Breakpoint]:
        return [b for b in self._bps.values() if b.kind in _WRITE_WATCHES and b.enabled]

    def _python_writes(self, frame) -> None:
        """Python kernel code writes memory without the CPU: after each of its lines,
        a watched value that changed is a watchpoint hit at the next line."""
        if type(self._mode) in REPLAYS:
            return
        for bp in self._watches():
            new = self._word(bp.addr, bp.length)
            if new != bp.value:
                old, bp.value = bp.value, new
                bp.hits += 1
                self._python_stop(frame, "watchpoint", breakpoint=bp, watch=(bp.addr, old, new))
                return

    def _python_line(self, frame) -> None:
        if frame.f_code.co_filename == RUNTIME_FILE:
            return  # the calling convention's glue is not a kernel line to stop at
        mode = self._mode
        if type(mode) is PyStep or (type(mode) in (PyNext, PyCaller) and frame is mode.frame):
            self._python_stop(frame, "step")

    def _python_return(self, frame) -> None:
        """``frame`` really returned (a generator's yield is a suspension, not this)."""
        caller = frame.f_back
        mode = self._mode
        if type(mode) in _PYTHON_MODES and caller is not None and _in_model(caller):
            caller.f_trace = self._trace  # it was entered untraced: see its next line
        if type(mode) in (PyNext, PyFinish) and frame is mode.frame:
            # Back to Python in the kernel: its next line; back to guest code: the
            # next guest instruction (after the thunk's ret).
            kernel = (
                caller is not None
                and _in_model(caller)
                and caller.f_code.co_filename != RUNTIME_FILE
            )
            self._mode = PyCaller(caller) if kernel else GuestStep()
            self._apply()

    def _python_stop(self, frame, reason: str, **details) -> None:
        cpu = self.machine.cpus[self.kern.this_cpu]
        self.python_frame = frame
        where = (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
        self._stop(cpu, reason, cpu.read("eip"), python=where, **details)

    # -- breakpoints -------------------------------------------------------------

    def break_at(self, spec, condition=None, temporary=False) -> Breakpoint:
        code = self._python_function(spec)
        bp = Breakpoint(self._next_number, "breakpoint", str(spec), condition=condition)
        bp.temporary = temporary
        if code is not None:
            bp.code = code
            bp.location = (
                f"{code.co_name}: file {_short(code.co_filename)}, line {code.co_firstlineno}."
            )
            self._py_bps.setdefault(code, []).append(bp)
        else:
            bp.addr = self._breakable(self.resolve(spec))
            bp.location = f"{bp.addr:#x}: {self.kern.symbols.describe(bp.addr)}"
            self._guest_bps.setdefault(bp.addr, []).append(bp)
        self._add(bp)
        self._place_sites()
        return bp

    def _breakable(self, addr: int) -> int:
        """``addr``, unless it is in the thunk page and no Python function's entry:
        py_ret is not a kernel instruction (the engine does not count it), only the
        way from guest code back to its Python caller, and nothing else there runs."""
        start, end = self._thunks
        if not start <= addr < end or addr in self.machine.python_functions:
            return addr
        if addr == self.machine.map.py_ret:
            raise BreakpointRefused(
                f"cannot break at py_ret ({addr:#x}): it is where guest code returns to "
                "its Python caller, not a kernel instruction; break on the Python caller"
            )
        raise BreakpointRefused(
            f"cannot break at {addr:#x}: nothing runs there (the thunk page holds only "
            "the entries of Python functions; break on one by name)"
        )

    def _add(self, bp: Breakpoint) -> None:
        bp.since = self.icount
        self._bps[bp.number] = bp
        self._next_number += 1
        self._arm_python()

    def _python_function(self, spec):
        """The code object of a Python kernel function named ``spec`` (None if not one)."""
        if not isinstance(spec, str) or not spec.isidentifier():
            return None
        sym = self.kern.symbols.by_name.get(spec)
        if sym is not None and sym.kind != "python":
            return None
        import kernel_model

        for module in _model_modules(kernel_model):
            func = getattr(module, spec, None)
            code = getattr(getattr(func, "__wrapped__", func), "__code__", None)
            if code is not None and _in_model_file(code.co_filename):
                return code
        return None

    def resolve(self, spec) -> int:
        """A guest address from a symbol, ``symbol+off`` or a number."""
        if isinstance(spec, int):
            return spec & 0xFFFFFFFF
        text = str(spec).strip().lstrip("*")
        name, plus, off = text.partition("+")
        symbols = self.kern.symbols
        try:
            if name in symbols:
                return symbols[name] + (int(off, 0) if plus else 0)
            return int(text, 0) & 0xFFFFFFFF
        except ValueError:
            raise DebuggerError(f"no symbol {text!r} in the kernel or the loaded image") from None

    def watch(self, addr: int, length: int = 4, kind: str = "write") -> Breakpoint:
        if length not in (1, 2, 4, 8):
            raise DebuggerError(f"a watchpoint covers 1, 2, 4 or 8 bytes, not {length}")
        if not self.machine.mem.contains(addr, length):
            raise DebuggerError(f"cannot watch {addr:#010x}: outside RAM")
        names = {"write": "watchpoint", "read": "rwatch", "access": "awatch"}
        bp = Breakpoint(self._next_number, names[kind], f"*{addr:#x}", addr=addr, length=length)
        bp.location = f"*{addr:#x}"
        end = addr + length - 1
        if kind in ("write", "access"):
            bp.handles.append(
                self.machine.hook_add(UC_HOOK_MEM_WRITE, self._watched(bp), addr, end)
            )
        if kind in ("read", "access"):
            bp.handles.append(self.machine.hook_add(UC_HOOK_MEM_READ, self._watched(bp), addr, end))
        bp.value = self._word(addr, length)
        self._add(bp)
        return bp

    def _watched(self, bp: Breakpoint):
        def on_access(uc, access, address, size, value, cpu):
            if not bp.enabled or self._stopping:
                return
            old = self._word(bp.addr, bp.length)
            if access == 16 or bp.kind == "rwatch":  # a read (UC_MEM_READ)
                new = old
            else:
                shift = 8 * (address - bp.addr)
                mask = ((1 << 8 * size) - 1) << shift if shift >= 0 else 0
                new = (old & ~mask | (value << shift) & mask) if shift >= 0 else old
                if bp.kind == "watchpoint" and new == old:
                    return  # gdb stops on a write only when the value changes
            bp.value = new
            if type(self._mode) in REPLAYS:
                self._replayed_watch(bp, old, new)
            else:
                bp.hits += 1
                self._log_hit(self.clock.now(), bp.number, self._watch_hit(bp, old, new))
                self._pend("watchpoint", breakpoint=bp, watch=(bp.addr, old, new))

        return on_access

    def _word(self, addr: int, length: int) -> int:
        return int.from_bytes(self.machine.mem.read(addr, length), "little")

    @property
    def breakpoints(self) -> list[Breakpoint]:
        return list(self._bps.values())

    def _get(self, number: int) -> Breakpoint:
        bp = self._bps.get(number)
        if bp is None:
            raise DebuggerError(f"no breakpoint number {number}")
        return bp

    def delete(self, number: int | None = None) -> None:
        for bp in [self._get(number)] if number is not None else list(self._bps.values()):
            del self._bps[bp.number]
            if bp.addr is not None and bp.kind == "breakpoint":
                self._guest_bps[bp.addr].remove(bp)
                if not self._guest_bps[bp.addr]:
                    del self._guest_bps[bp.addr]
            if bp.code is not None:
                self._py_bps[bp.code].remove(bp)
                if not self._py_bps[bp.code]:
                    del self._py_bps[bp.code]
            for handle in bp.handles:
                self.machine.hook_del(handle)
        self._place_sites()
        self._arm_python()

    def enable(self, number: int) -> None:
        bp = self._get(number)
        if not bp.enabled:
            bp.enabled, bp.since = True, self.icount  # its hits while disabled are not logged
        self._arm_python()

    def disable(self, number: int) -> None:
        self._get(number).enabled = False
        self._arm_python()

    # -- resuming ------------------------------------------------------------------

    def cont(self) -> None:
        self._mode = CONTINUE

    def stepi(self, n: int = 1) -> None:
        """Stop after ``n`` more instructions (a call into Python is one)."""
        if n < 1:
            raise DebuggerError("stepi takes a positive count")
        # Stopped before an instruction, it is the first of the n; elsewhere (in
        # Python, after an oops) the next one is.
        here = self.clock.now() if self._position is None else self._position
        self._target = here + n - (0 if self._boundary else 1)
        self._mode = stepping(n)

    def nexti(self, n: int = 1) -> None:
        """Like stepi, but a guest ``call`` runs to its return."""
        cpu = self.machine.cpus[self.selected_cpu]
        pc = cpu.read("eip")
        insn = self._insn(pc)
        calls = insn.text.startswith("call") and pc not in self.machine.python_functions
        if n == 1 and self._boundary and calls:
            self._mode = ReturnTo(pc + insn.size, cpu.read("esp") - 4)
        else:
            self.stepi(n)

    def step(self) -> None:
        """One line: into a Python kernel function (its first line), the next line
        of Python, or, in guest code, the first instruction of another ``.S`` line
        (the next instruction where there is no line table)."""
        self._mode = PyStep(self._line_key())

    def next(self) -> None:
        """The next line of this Python function (calls and sleeps run over); in
        guest code the next ``.S`` line with calls run over (nexti where there
        is no line table)."""
        if self.python_frame is not None:
            self._mode = PyNext(self.python_frame)
            return
        key = self._line_key()
        if key is None:
            self.nexti()
        else:
            self._mode = LineNext(key)
            cpu = self.machine.cpus[self.selected_cpu]
            self._next_line(cpu, cpu.read("eip"))  # the call at EIP, if one

    def finish(self) -> None:
        """Run until the current function returns to its caller."""
        frame = self.python_frame
        if frame is not None:
            self._mode = PyFinish(frame)
            return
        cpu = self.machine.cpus[self.selected_cpu]
        ret = self._return_address(cpu.read("esp"))
        if ret is None:
            raise DebuggerError('"finish" not meaningful in the outermost frame')
        self._mode = ReturnTo(ret[0], ret[1])

    def until(self, spec=None) -> None:
        if spec is None:
            self.next()
            return
        self.advance(spec)

    def advance(self, spec) -> None:
        self.break_at(spec, temporary=True)
        self.cont()

    def interrupt(self) -> None:
        """Ctrl-C: stop at the next instruction boundary.  Safe from a signal handler
        or another thread (two flags, read by the machine between runs); a no-op
        while stopped (in on_stop)."""
        if not self._stopping:
            self._interrupted = True
            self.clock.alert()

    # -- state ------------------------------------------------------------------------

    def select_cpu(self, n: int) -> None:
        if not 0 <= n < len(self.machine.cpus):
            raise DebuggerError(f"no CPU {n}: this machine has {len(self.machine.cpus)}")
        self.selected_cpu = n
        self.selected_task = self.kern.current(n).pid

    def select_task(self, pid: int) -> None:
        if self._task(pid) is None:
            raise DebuggerError(f"no task with pid {pid}")
        self.selected_task = pid

    def _task(self, pid: int):
        stopped = self._stopped_task
        if stopped is not None and pid == stopped[0] and pid:  # pid 0: see below
            return stopped[1]
        if pid == 0:  # every CPU's idle task has pid 0: the selected CPU's
            idle = self.kern.rq[self.selected_cpu].idle
            return self.kern.task(idle) if idle else self.kern.data.init_task
        try:
            return find_task(self.kern, pid)
        except TaskError:
            return None

    def task(self, pid=None):
        """The task ``pid`` (default: the selected one; pid 0: the selected CPU's idle task)."""
        pid = self.selected_task if pid is None else pid
        task = self._task(pid) if pid is not None else self.kern.current(self.selected_cpu)
        if task is None:
            raise DebuggerError(f"no task with pid {pid}")
        return task

    def registers(self, pid=None) -> dict:
        """gdb's registers of a task: live on its CPU, or as Linux saved them."""
        return task_registers(self.kern, self.task(pid))

    def write_register(self, name: str, value: int, pid=None) -> None:
        """A general register of a running task: the live one of the CPU it runs on
        (a switched-out task's are what Linux saved, not a CPU's: refused)."""
        task = self.task(pid)
        cpu = running_on(self.kern, task)
        if cpu is None:
            raise DebuggerError(f"task {task.pid} is switched out: its registers are what "
                                "Linux saved, not a CPU's")  # fmt: skip
        if name not in (*GPRS, "eip", "eflags"):
            raise DebuggerError(f"{name} cannot be written (general registers only)")
        live = self.machine.cpus[cpu]
        if name == "eip":
            # Stopped before an instruction, the CPU goes on at the new EIP instead
            # (the one it was stopped before never ran, and is not counted).
            self._check_eip_writable(live)
        if live.loaded:
            self._cut()
        live.write(name, value & 0xFFFFFFFF)

    def _check_eip_writable(self, cpu) -> None:
        """Inside a call into Python, EIP is the calling convention's (the call
        returns to the guest's caller whatever it holds)."""
        eip = cpu.read("eip")
        stopped = self.last_stop.cpu if self.last_stop is not None else None
        if (
            (self.python_frame is not None and cpu.index == stopped)
            or eip == self.machine.map.py_ret
            or self._thunks[0] <= eip < self._thunks[1]
        ):
            raise DebuggerError("eip cannot be written while the task is in a Python kernel "
                                "function: its return goes back to the guest caller")  # fmt: skip

    def read_memory(self, addr: int, n: int) -> bytes:
        try:
            return self.machine.mem.read(addr, n)
        except BadAddress:
            raise DebuggerError(f"Cannot access memory at address {addr:#x}") from None

    def write_memory(self, addr: int, data: bytes) -> None:
        try:
            self.machine.mem.write(addr, data)
        except BadAddress:
            raise DebuggerError(f"Cannot access memory at address {addr:#x}") from None
        # Between runs, the next one translates what memory holds now; inside a
        # Python call, the guest code it returns to is looked up again too.
        self._cut()
        self.machine.forget_code(addr, addr + len(data))

    def frames(self, pid=None) -> list[Frame]:
        """The backtrace: Python frames (from the task's frame stack) and guest
        frames (return addresses found on its stack), innermost first."""
        regs = self.registers(pid)
        task = self._task(self.selected_task if pid is None else pid)
        out = [Frame(regs["eip"], regs["esp"], name=self.kern.symbols.describe(regs["eip"]))]
        seen = set()
        if self.python_frame is not None and (pid is None or pid == self.selected_task):
            chain = list(_chain(self.python_frame))
            seen = {id(f) for f in chain}
            # Innermost first, each just below the one that called it.
            base = regs["esp"] - len(chain)
            out = [Frame(regs["eip"], base + i, _where(f)) for i, f in enumerate(chain)]
        out += [f for f in self._python_frames(task) if f.frame_id not in seen]
        out += self._guest_frames(regs["esp"], task)
        out.sort(key=lambda f: f.sp)
        return out

    def _python_frames(self, task) -> list[Frame]:
        frames = []
        for f in self.kern.runtime.frames.get(task.addr, ()):
            gen = f.gen
            sp = f.entry_sp or f.sp or 0
            inner = []
            while gen is not None and getattr(gen, "gi_frame", None) is not None:
                if gen.gi_frame.f_code.co_filename != RUNTIME_FILE:  # the glue, not the kernel
                    inner.append(
                        Frame(f.thunk or 0, sp, _where(gen.gi_frame), frame_id=id(gen.gi_frame))
                    )
                gen = gen.gi_yieldfrom
            # Innermost first, each just below the one that called it.
            for i, frame in enumerate(reversed(inner)):
                frame.sp = sp - len(inner) + i
                frames.append(frame)
        return frames

    def _guest_frames(self, sp: int, task) -> list[Frame]:
        """Return addresses on the stack (the kernel's unreliable unwinder), ending at
        kernel_thread_helper's fake zero return address."""
        top = (task.stack + THREAD_SIZE) if task.stack else (sp | (THREAD_SIZE - 1)) + 1
        out = []
        mem = self.machine.mem
        for slot in range(sp, min(top, sp + THREAD_SIZE), 4):
            if not mem.contains(slot, 4):
                break
            word = mem.u32(slot)
            if self._after_call(word):
                out.append(Frame(word, slot, name=self.kern.symbols.describe(word)))
        return out

    def _return_address(self, sp: int):
        mem = self.machine.mem
        for slot in range(sp, sp + 512, 4):
            if not mem.contains(slot, 4):
                return None
            word = mem.u32(slot)
            if self._after_call(word):
                return word, slot
        return None

    def _after_call(self, addr: int) -> bool:
        """Is ``addr`` the return address of a call (the instruction before is a call)?"""
        m = self.machine
        if not (m.map.text <= addr < m.map.text + m.map.text_size):
            return False
        for back in (5, 2, 3, 6):
            insn = self._insn(addr - back)
            if insn.size == back and insn.text.startswith("call"):
                return True
        return False

    def _insn(self, addr: int):
        try:
            code = self.machine.mem.read(addr, 16)
        except BadAddress:
            return disassemble_one(b"", addr)
        return disassemble_one(code, addr, symbols=self.kern.symbols)

    # -- the loop --------------------------------------------------------------------

    def start(self) -> None:
        """Stop before anything runs, then run the machine under the debugger;
        when every CPU is idle, stop again ("idle"); until on_stop raises Quit."""
        cpu = self.machine.cpus[0]
        self._booting = not self.kern.runtime.frames
        if self._booting:
            self.kern.start(rest_init)  # a machine not yet booted: continue boots it
        if self.timeline is not None:  # the first one at the first instruction
            self._checkpoints = self.clock.call_at(self.clock.now(), self._checkpoint_due)
        try:
            self._stop(cpu, "start", cpu.read("eip"))
            while True:
                try:
                    self.kern.run()
                except SoftLockup as err:
                    # The kernel's soft-lockup report: a stop, as an oops is (a replay
                    # runs on over it, as the forward run did).
                    cpu = self.machine.loaded or self.machine.cpus[self.selected_cpu]
                    if type(self._mode) not in REPLAYS:
                        self._stop(cpu, "lockup", cpu.read("eip"), boundary=True,
                                   text=[str(err)])  # fmt: skip
                    continue
                cpu = self.machine.cpus[self.selected_cpu]
                if type(self._mode) in REPLAYS:
                    self._replayed_to_idle(cpu)
                self._stop(cpu, "idle", 0)
        except QuitDebugger:
            return
        finally:
            sys.settrace(None)
            if self.timeline is not None:
                self.timeline.close()
                self.timeline.report_exit(self.exit_status)


def _breakpoint_head(bp: Breakpoint | None) -> str:
    """gdb's start of a breakpoint stop's line: "Breakpoint 1, ", "Temporary breakpoint 2, "."""
    if bp is None:
        return "Breakpoint ?, "
    return f"{'Temporary breakpoint' if bp.temporary else 'Breakpoint'} {bp.number}, "


_LINE_STEP_CODE = (
    Debugger._left_line.__code__,
    Debugger._next_line.__code__,
    Debugger._scan_instruction.__code__,
    Debugger._reverse_nexti.__code__,
    Debugger._reverse_nexti_arrived.__code__,
)


def _in_model(frame) -> bool:
    return _in_model_file(frame.f_code.co_filename)


_MODEL_FILES: dict[str, bool] = {}


def _in_model_file(filename: str) -> bool:
    known = _MODEL_FILES.get(filename)
    if known is None:
        known = _MODEL_FILES[filename] = Path(filename).resolve().parent == MODEL_DIR
    return known


def _model_modules(package):
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(package.__path__):
        yield importlib.import_module(f"kernel_model.{info.name}")


def _depth(frame) -> int:
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def _chain(frame):
    """The Python kernel frames from ``frame`` outwards, up to the calling convention
    (kernel_model/runtime.py, the model's glue: not the kernel's frames)."""
    while frame is not None and _in_model(frame) and frame.f_code.co_filename != RUNTIME_FILE:
        yield frame
        frame = frame.f_back


def _where(frame) -> tuple:
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _short(filename: str) -> str:
    """A source path as the user's tree names it (kernel_model/fork.py)."""
    path = Path(filename)
    root = MODEL_DIR.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else filename
