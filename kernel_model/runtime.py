"""How Python-implemented kernel functions and guest code call each other.

This is the model's calling convention, the part a C compiler gives the
real kernel for free; it has no counterpart file in Linux.

* Guest -> Python: a guest ``call`` lands on the function's ``ret`` thunk;
  the code hook reads the arguments as the kernel passes them
  (``-mregparm=3``: eax, edx, ecx; ``asmlinkage``: on the stack) and runs
  the function.  A plain function returns at once (its result goes to
  eax and the thunk's ``ret`` executes, all inside one emulator run).
* A function that may sleep is a generator marked ``@might_sleep``.  Every
  place it may block is spelled ``yield from`` (a test checks each call); it
  yields requests to this module: ``CallGuest`` (run a guest function as a real frame on the task's
  kernel stack and hand back its eax), ``Idle`` (park the CPU until
  something is queued on it) and ``Relax`` (let the other CPUs run first).
* When such a frame first needs the CPU (it yields, or takes a stack
  local), it does a C prologue: the callee-saved registers go onto the
  task's kernel stack below the return address, and the frame's stack
  pointer is recorded.  Nothing about a sleeping task lives only in
  Python but its generator: its registers are on its stack, its stack
  pointer in ``thread.sp``, its resume address in ``thread.ip``.
* Python -> guest: ``CallGuest`` pushes the stack arguments and the
  ``py_ret`` trap as return address, loads eax/edx/ecx, and points the CPU
  at the function.  Reaching ``py_ret`` runs its hook: the frame on top of
  the *current* task (the per-CPU ``current_task``, which the guest
  ``__switch_to`` may have changed meanwhile) resumes with eax.
* Frame records, for unwinders (gdb, through the CFI kthreadd_emu/for_gdb/kernel_elf.py
  makes from RECORD and RETURN_MARK): a record is what a C function built
  with frame pointers leaves on its stack, 5 words, low to high: ebx, esi,
  edi, the caller's record (the saved ebp) and a return address, ebp
  pointing at the saved-ebp word.  The prologue's save area is one (its
  return address is the guest caller's).  Whenever a frame hands the CPU
  to guest code, or parks it, one record per exported function of its
  generator chain (its own function, then each one it is inside, ``yield
  from`` by ``yield from``) goes below its stack pointer, each returning
  "into" the function it was called from: that function's thunk +
  RETURN_MARK, an address no CPU executes.  The guest code gets ebp = the
  innermost record, as a C callee gets its caller's frame pointer.  A root
  frame (and a noreturn one, which saves nothing) gets a base record first,
  whose return address is OUTERMOST (py_ret + OUTERMOST): the walk ends.
* All of this happens inside the emulator's hooks: serving a ``CallGuest``
  writes the registers and EIP and the CPU goes on, so a chain of calls
  between Python and guest code (schedule -> switch_to -> ret_from_fork ->
  schedule_tail -> the thread -> do_exit -> schedule -> switch_to -> ...)
  costs one ``emu_start``.  The CPU leaves the emulator only when it has
  nothing to run (``Idle``), must let the others run (``Relax``, the end of
  a time slice), or stops for the kernel (a fault, the budget).
"""

import inspect
from dataclasses import dataclass
from types import GeneratorType

from emu.cpu import RegisterBatch
from emu.events import BudgetExhausted, Fault, Halt, PythonCall, PythonReturn
from emu.memory import PAGE_OFFSET, BadAddress
from kernel_model.bug import bug_report
from kernel_model.consts import X86_EFLAGS_IF
from kernel_model.headers import task_struct

CALLEE_SAVED = ("ebx", "esi", "edi", "ebp")
# A frame record, low to high (ebp points at the "ebp" word): see the module's docstring.
RECORD = ("ebx", "esi", "edi", "ebp", "eip")
RECORD_FP = RECORD.index("ebp")  # words below the one ebp points at
RETURN_MARK = 2  # a record's return address into a Python function: its thunk + 2
OUTERMOST = 2  # py_ret + 2: the return address of a root frame's base record
# What one entry into a Python kernel function counts for against the budget, in
# instructions: a guest loop around one (a fork bomb) is a soft lockup too.
PYTHON_CALL_COST = 100


@dataclass(frozen=True)
class Export:
    """A Python function reachable from guest code by address."""

    name: str
    func: object
    nargs: int
    asmlinkage: bool
    noreturn: bool


EXPORTS: dict[str, Export] = {}


def guest_callable(nargs=0, asmlinkage=False, noreturn=False):
    """Publish a kernel function to guest code under its kernel name.

    ``noreturn`` functions (do_exit) need no saved registers: nobody resumes
    their caller."""

    def register(func):
        name = func.__name__
        EXPORTS[name] = Export(name, func, nargs, asmlinkage, noreturn)
        return func

    return register


def might_sleep(func):
    """Mark ``func`` as a kernel function that may sleep (2.6.32 says so with
    might_sleep() at its head): a generator, so every call of it must stand
    under ``yield from``, or hand it to ``start_root`` as a task's root frame.
    A call without ``yield from`` would make the generator and drop it: the
    function would silently not run.  tests/test_sleeping.py checks every call
    in kernel_model/ by its syntax tree.  The function itself is unchanged
    (no wrapper): its generator frames are what the runtime drives and what
    the debugger steps through."""
    func.might_sleep = True
    return func


class CallGuest:
    """Run guest function ``addr`` with ``args`` (made for every call: a plain
    class, a third of a frozen dataclass's cost)."""

    __slots__ = ("addr", "args")

    def __init__(self, addr: int, args: tuple = ()):
        self.addr, self.args = addr, args


class Idle:
    """Park this CPU until work is queued on it (cpu_idle's hlt)."""


class Relax:
    """Let the other CPUs run before this one goes on (cpu_relax): a task
    polling for another CPU's progress must not hold the only host thread."""


IDLE = Idle()
RELAX = Relax()


@might_sleep
def call_guest(addr: int, *args: int):
    """Call guest function ``addr`` with the kernel's regparm(3) convention; returns eax."""
    return (yield CallGuest(addr, args))


class Frame:
    """One Python function entered on a task: from a guest call (``thunk`` set)
    or as the task's root (the boot code, an idle loop, do_exit after an oops)."""

    __slots__ = ("gen", "thunk", "entry_sp", "sp", "noreturn")

    def __init__(self, gen, thunk=None, sp=None, noreturn=False):
        self.gen, self.thunk, self.entry_sp, self.sp = gen, thunk, sp, sp
        self.noreturn = noreturn


class StackLocal:
    """The context manager of Runtime.stack_local: the frame's stack pointer
    moves down for the variable and back up when the block ends."""

    __slots__ = ("runtime", "struct_type", "frame", "saved")

    def __init__(self, runtime, struct_type):
        self.runtime, self.struct_type = runtime, struct_type

    def __enter__(self):
        rt = self.runtime
        cpu = rt.machine.cpus[rt.kern.this_cpu]
        frame = self.frame = rt.top_frame(cpu.index)
        if frame.sp is None:
            rt.prologue(cpu, frame)
        self.saved = frame.sp
        frame.sp = (frame.sp - self.struct_type.SIZE) & ~3
        return self.struct_type(rt.mem, frame.sp)

    def __exit__(self, *exc):
        self.frame.sp = self.saved


# What a CPU does next, outside the emulator: run guest code from where its
# context stands, resume the current task's top Python frame, or nothing.
GUEST, SEND, IDLE_MODE = "guest", "send", "idle"


class SnapshotError(Exception):
    """A snapshot can no longer be restored (a long-lived task moved on)."""


def suspension_point(gen) -> tuple | None:
    """Where a generator (and what it delegates to) is suspended; None if finished."""
    point = []
    while inspect.isgenerator(gen):
        if gen.gi_frame is None:
            return None
        point.append((gen.gi_frame.f_code, gen.gi_frame.f_lasti))
        gen = gen.gi_yieldfrom
    return tuple(point)


REGPARM = ("eax", "edx", "ecx")
_ARGS = [RegisterBatch(REGPARM[:n]) for n in range(4)]
_ENTRY = RegisterBatch(("esp",) + CALLEE_SAVED)
_EXIT = RegisterBatch(CALLEE_SAVED + ("esp", "eax"))
_CALL = [RegisterBatch(("esp", "ebp") + REGPARM[:n]) for n in range(4)]


class Runtime:
    """Drives every CPU: the machine loop of the model."""

    def __init__(self, kern):
        self.kern = kern
        self.machine = kern.machine
        self.mem = kern.machine.mem
        ncpus = len(self.machine.cpus)
        self.frames: dict[int, list[Frame]] = {}  # task address -> its Python frames
        self.mode = [IDLE_MODE] * ncpus
        self.value: list = [None] * ncpus  # what a SEND resumes the top frame with
        self.idle_mask = (1 << ncpus) - 1  # bit n: CPU n is idle
        self.busy: set[int] = set()
        self.by_addr: dict[int, Export] = {}
        self._marks: dict = {}  # an exported function's code -> its records' return address
        self.budget = 1_000_000
        # A CPU runs guest code for at most a time slice before the others get a
        # turn, so a CPU spinning on another's progress (a lock, a flag) waits for
        # it as on real SMP.  The budget (the soft lockup) counts what a CPU ran
        # since it last scheduled: whole slices, and each entry into a Python
        # kernel function as PYTHON_CALL_COST instructions.
        self.time_slice = 20_000
        self.spent = [0] * ncpus
        self._scheduled = [False] * ncpus  # touch_softlockup_watchdog() in this slice
        self._calls_at_touch = [0] * ncpus
        self.events = 0  # frames resumed or suspended: the scheduling events
        self.stop_at_events = None  # a run's bound on events (checked in the hooks too)
        self.calls = 0  # entries into Python from guest code (thunks and py_ret)
        self.machine.pycall = self.on_pycall
        self.machine.pyreturn = self.on_pyreturn
        # get_current() per CPU, cached: the per-CPU current_task word is read
        # as a word of RAM each time (guest __switch_to writes it), and the view
        # made again only when the word changed.
        self._words = memoryview(self.mem.buf).cast("I")
        self._current_word: list[int] = []
        self._current: list = [None] * ncpus

    def locate_current(self, slots: list[int]) -> None:
        """Where each CPU's per-CPU current_task word lives (set up once, at boot)."""
        self._current_word = [(a - PAGE_OFFSET) >> 2 for a in slots]

    def current(self, cpu_index: int):
        """get_current() of CPU ``cpu_index``: the task its current_task names."""
        addr = self._words[self._current_word[cpu_index]]
        p = self._current[cpu_index]
        if p is None or p.addr != addr:
            p = self._current[cpu_index] = task_struct(self.mem, addr)
        return p

    def current_addr(self, cpu_index: int) -> int:
        """The word current_task of CPU ``cpu_index`` holds (no view, no bounds check:
        the slot is in the per-CPU area, always in RAM)."""
        return self._words[self._current_word[cpu_index]]

    def save(self) -> tuple:
        """The Python side of every task, with where each of its generators waits.

        Generators cannot be copied; a restore is valid only while each one still
        waits at the same point (kthreadd back in its loop's schedule(), say)."""
        frames = {
            task: [(f, f.gen, f.thunk, f.entry_sp, f.sp, suspension_point(f.gen)) for f in fs]
            for task, fs in self.frames.items()
        }
        return (
            list(self.mode),
            list(self.value),
            self.idle_mask,
            set(self.busy),
            frames,
            self.events,
            list(self.spent),
        )

    def restore(self, saved) -> None:
        mode, value, idle_mask, busy, frames, events, spent = saved
        for task, entries in frames.items():
            for _, gen, _, _, _, point in entries:
                if gen is not None and suspension_point(gen) != point:
                    raise SnapshotError(f"task {task:#010x} moved on since the snapshot")
        self.mode, self.value = list(mode), list(value)
        self.idle_mask, self.busy, self.events = idle_mask, set(busy), events
        self.spent = list(spent)
        self.frames = {}
        for task, entries in frames.items():
            self.frames[task] = []
            for frame, gen, thunk, entry_sp, sp, _ in entries:
                frame.gen, frame.thunk, frame.entry_sp, frame.sp = gen, thunk, entry_sp, sp
                self.frames[task].append(frame)

    def publish(self, addresses: dict[str, int]) -> None:
        for name, addr in addresses.items():
            self.by_addr[addr] = EXPORTS[name]
            self._marks[EXPORTS[name].func.__code__] = addr + RETURN_MARK

    # -- guest -> Python (in the emulator's hooks) ----------------------------

    def on_pycall(self, cpu, addr) -> bool:
        """Code hook at a thunk: run the function; True stops the CPU."""
        self.calls += 1
        try:
            return self._call_python(cpu, addr)
        except BadAddress as err:
            cpu.stop = self._bad_pointer(cpu, err)
        except Exception as err:  # noqa: BLE001 - the kernel's own failure is a BUG
            cpu.stop = self._kernel_bug(cpu, err)
        return True

    def on_pyreturn(self, cpu) -> bool:
        """Code hook at py_ret: a guest function called from Python returned."""
        self.calls += 1
        self.kern.this_cpu = cpu.index
        frames = self.frames.get(self.current_addr(cpu.index))
        if not frames:
            cpu.stop = Fault(
                self.machine.map.py_ret,
                "trap",
                vector=6,
                detail="py_ret reached with no Python caller waiting (it is not code)",
            )
            return True
        try:
            return self._advance(cpu, frames[-1], cpu.read("eax"))
        except BadAddress as err:
            cpu.stop = self._bad_pointer(cpu, err)
        except Exception as err:  # noqa: BLE001 - the kernel's own failure is a BUG
            cpu.stop = self._kernel_bug(cpu, err)
        return True

    def _bad_pointer(self, cpu, err: BadAddress) -> Fault:
        """Python kernel code dereferenced a bad pointer: the kernel would oops here."""
        return Fault(cpu.read("eip"), "page", address=err.address, access="read")

    def _kernel_bug(self, cpu, err: Exception) -> Fault:
        """The kernel's Python code failed: its BUG(), or not the kernel's at all."""
        report = bug_report(err)
        if report is None:
            raise err
        return Fault(cpu.read("eip"), "bug", detail="\n".join(report))

    def _call_python(self, cpu, addr) -> bool:
        export = self.by_addr[addr]
        kern = self.kern
        kern.this_cpu = cpu.index
        args = self._arguments(cpu, export)
        frames = self.frames.setdefault(self.current_addr(cpu.index), [])
        frame = Frame(None, thunk=addr, noreturn=export.noreturn)
        frames.append(frame)
        result = export.func(kern, *args)
        if type(result) is GeneratorType:
            frame.gen = result
            try:
                request = result.send(None)
            except StopIteration as done:
                result = done.value
            else:
                self.events += 1
                if frame.sp is None:
                    self.prologue(cpu, frame)
                return self._serve(cpu, frame, request)
        # Finished without sleeping: still at the thunk, whose ret returns.
        frames.pop()
        cpu.write("eax", result or 0)
        return False

    def _arguments(self, cpu, export: Export) -> tuple:
        if export.asmlinkage:
            sp = cpu.read("esp")
            return self.mem.unpack(f"<{export.nargs}I", sp + 4) if export.nargs else ()
        return tuple(cpu.read_batch(_ARGS[export.nargs])) if export.nargs else ()

    def prologue(self, cpu, frame: Frame) -> None:
        """Save the caller's callee-saved registers on the kernel stack (C prologue)."""
        sp, *values = cpu.read_batch(_ENTRY)
        frame.entry_sp = sp
        if frame.noreturn:
            frame.sp = sp
            return
        frame.sp = sp - 4 * len(values)
        self.mem.pack("<4I", frame.sp, *values)

    def _epilogue(self, cpu, frame: Frame, result) -> None:
        """Return to the guest caller: restore registers, let the thunk's ``ret`` run."""
        if frame.entry_sp is not None:
            saved = self.mem.unpack("<4I", frame.sp)
            cpu.write_batch(_EXIT, (*saved, frame.entry_sp, result or 0))
        else:
            cpu.write("eax", result or 0)
        cpu.skip_thunk = frame.thunk
        self._jump(cpu, frame.thunk)

    def _jump(self, cpu, pc: int) -> None:
        """Guest code goes on at ``pc``.  EIP is written alone: written in a batch
        with other registers inside a code hook, Unicorn runs the same hook again."""
        cpu.write("eip", pc)
        self._set_mode(cpu.index, GUEST)

    # -- frames ------------------------------------------------------------

    def _advance(self, cpu, frame: Frame, value) -> bool:
        """Send ``value`` into ``frame``; True if the CPU must leave the emulator."""
        self.events += 1
        try:
            request = frame.gen.send(value)
        except StopIteration as done:
            return self._frame_returned(cpu, frame, done.value)
        if frame.sp is None:
            self.prologue(cpu, frame)
        return self._serve(cpu, frame, request)

    def _frame_returned(self, cpu, frame: Frame, result) -> bool:
        self.frames[self.current_addr(cpu.index)].pop()
        if frame.thunk is not None:
            self._epilogue(cpu, frame, result)
            return self._over_events()
        self._set_mode(cpu.index, IDLE_MODE)
        return True

    def top_frame(self, cpu_index: int) -> Frame:
        return self.frames[self.current_addr(cpu_index)][-1]

    def start_root(self, task, gen, sp: int) -> None:
        """Make ``gen`` the bottom Python frame of ``task`` with stack pointer ``sp``."""
        self.frames[task.addr] = [Frame(gen, None, sp)]

    def stack_local(self, struct_type) -> "StackLocal":
        """A local variable of ``struct_type`` on the current task's kernel stack
        (``with runtime.stack_local(T) as var:``)."""
        return StackLocal(self, struct_type)

    # -- serving requests --------------------------------------------------

    def _serve(self, cpu, frame: Frame, request) -> bool:
        """Carry out what ``frame`` (the current task's top one) asked for; True if the
        CPU must leave the emulator."""
        if type(request) is CallGuest:
            self._call_guest(cpu, frame, request)
            return self._over_events()
        self.value[cpu.index] = None
        cpu.write("ebp", self._lay_records(frame)[1])  # where the CPU waits, for unwinders
        self._set_mode(cpu.index, SEND if type(request) is Relax else IDLE_MODE)
        return True

    def _over_events(self) -> bool:
        return self.stop_at_events is not None and self.events > self.stop_at_events

    def _call_guest(self, cpu, frame: Frame, call: CallGuest) -> None:
        reg_args, stack_args = call.args[:3], call.args[3:]
        below, fp = self._lay_records(frame)
        sp = below - 4 * len(stack_args)
        if stack_args:
            self.mem.pack(f"<{len(stack_args)}I", sp, *stack_args)
        sp -= 4
        self.mem.set_u32(sp, self.machine.map.py_ret)
        cpu.write_batch(_CALL[len(reg_args)], (sp, fp, *reg_args))
        self._jump(cpu, call.addr)

    def _lay_records(self, frame: Frame) -> tuple[int, int]:
        """Lay ``frame``'s records below its stack pointer (see the module's
        docstring); returns the stack pointer below them and the innermost one."""
        sp = frame.sp
        if frame.thunk is not None and not frame.noreturn:
            fp = frame.entry_sp - 4  # the prologue's save area
            saved = self.mem.unpack("<3I", fp - 4 * RECORD_FP)
        else:
            base = self.machine.map.py_ret + OUTERMOST
            if frame.thunk is not None:
                base = self.mem.u32(frame.entry_sp)  # noreturn: its caller's return address
            sp -= 4 * len(RECORD)
            saved = (0, 0, 0)
            self.mem.pack("<5I", sp, *saved, 0, base)
            fp = sp + 4 * RECORD_FP
        gen, marks = frame.gen, self._marks
        while gen is not None and gen.gi_frame is not None:
            mark = marks.get(gen.gi_code)
            if mark is not None:
                sp -= 4 * len(RECORD)
                self.mem.pack("<5I", sp, *saved, fp, mark)
                fp = sp + 4 * RECORD_FP
            gen = gen.gi_yieldfrom
        return sp, fp

    def resume(self, cpu_index: int) -> None:
        """Resume (or start) the current task's top Python frame on this CPU."""
        self.value[cpu_index] = None
        self._set_mode(cpu_index, SEND)

    def kick(self, cpu_index: int) -> None:
        """Work was queued on an idle CPU: resume its idle loop."""
        if self.mode[cpu_index] is IDLE_MODE:
            self.resume(cpu_index)

    # -- the loop ----------------------------------------------------------

    def step(self, cpu):
        """Advance ``cpu`` by one turn.  Returns the stop reason when guest code
        stopped for something only the kernel can handle (a fault, the budget, hlt)."""
        i = cpu.index
        self.kern.this_cpu = i
        try:
            if self.mode[i] is SEND and self._advance(cpu, self.top_frame(i), self.value[i]):
                return None
        except BadAddress as err:
            return self._bad_pointer(cpu, err)
        except Exception as err:  # noqa: BLE001 - the kernel's own failure is a BUG
            return self._kernel_bug(cpu, err)
        if self.mode[i] is GUEST:
            return self._run_guest(cpu)
        return None

    def touch_softlockup_watchdog(self, cpu_index: int) -> None:
        """The CPU scheduled (or idles): the watchdog thread could run, no lockup."""
        self.spent[cpu_index] = 0
        self._scheduled[cpu_index] = True
        self._calls_at_touch[cpu_index] = self.calls

    def _run_guest(self, cpu):
        i = cpu.index
        count = max(1, min(self.time_slice, self.budget - self.spent[i]))
        calls = self.calls
        self._scheduled[i] = False
        reason = self.machine.run(cpu, cpu.read("eip"), count)
        if self._scheduled[i]:  # only what came after its last schedule() counts
            self.spent[i] = (self.calls - self._calls_at_touch[i]) * PYTHON_CALL_COST
        else:
            # A hlt waits for the next interrupt: the end of the slice, here.
            ran = count if type(reason) in (BudgetExhausted, Halt) else 0
            self.spent[i] += ran + (self.calls - calls) * PYTHON_CALL_COST
        if isinstance(reason, PythonCall | PythonReturn):
            return None  # the hook that stopped it set the mode
        if type(reason) is Halt and cpu.read("eflags") & X86_EFLAGS_IF:
            # hlt with interrupts on: an interrupt (a timer tick, here a turn of
            # the others) wakes the CPU and it goes on after the hlt.
            self._jump(cpu, reason.eip + 1)
        elif type(reason) is not BudgetExhausted:
            return reason
        if self.spent[i] < self.budget:
            return None  # slice over: the others go, then this CPU goes on
        self.spent[i] = 0
        return BudgetExhausted(reason.eip, self.budget)

    def _set_mode(self, cpu_index: int, mode: str) -> None:
        if self.mode[cpu_index] is mode:
            return  # (guest code calling guest code from a hook: the common case)
        self.mode[cpu_index] = mode
        if mode is IDLE_MODE:
            self.idle_mask |= 1 << cpu_index
            self.busy.discard(cpu_index)
        else:
            self.idle_mask &= ~(1 << cpu_index)
            self.busy.add(cpu_index)

    def busy_cpus(self) -> list:
        cpus = self.machine.cpus
        return [cpus[i] for i in sorted(self.busy)]
