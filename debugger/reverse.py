"""Going back, the engine's half (debugger/engine.py's Debugger has it): the
reverse commands, the checkpoints they go back to (debugger/timeline.py), and
what a woken checkpoint runs (``Goto``, ``Scan``: debugger/modes.py).

Every way back is a replay from a checkpoint to an instruction count, which
the machine's clock reaches exactly (a deadline: emu/clock.py):

* ``reverse-stepi N``: the count N back.
* ``reverse-continue``: the last breakpoint or watchpoint hit before now.  The
  intervals between checkpoints are replayed at full speed, newest first, each
  noting where its hits are (a breakpoint's hook records instead of stopping);
  the first interval with one goes to its last hit (a second replay, from the
  same checkpoint); none in the whole history: its start, "No more
  reverse-execution history."
* ``reverse-finish``: the call that entered the current guest function, found
  the same way (a hook on the call instruction, checking the stack slot).
* ``reverse-nexti``: gdb's way: back one instruction of this CPU (its own
  count); if that was the ``ret`` of a function this frame called, back to the
  call; if the CPU ran another task just before, this task's last instruction
  there (then every instruction is looked at, the only case that needs it).

Each hop is one process handing the session to a checkpoint (debugger/timeline.py),
which goes on from what the message says: that process never returns
(``NoReturn``).
"""

from typing import NoReturn

from debugger.errors import DebuggerError
from debugger.modes import Breakpoints, CallOf, Continue, FrameOf, Goto, Scan
from debugger.timeline import INTERVAL

NEAR = INTERVAL  # a replay to a count takes a checkpoint this short of it


class GoingBack:
    """The reverse half of the Debugger (a mixin: it uses the engine's state)."""

    on_woken: list  # called when a checkpoint takes the session over (the stub's threads)

    # -- the commands ---------------------------------------------------------------

    def reverse_stepi(self, n: int = 1, cpu: int | None = None) -> NoReturn:
        """Back ``n`` instructions of the machine (of CPU ``cpu``, if given)."""
        if n < 1:
            raise DebuggerError("reverse-stepi takes a positive count")
        if cpu is None:
            self._go_back(Goto(self.icount - n, "step"))
        self._go_back(Goto(self.clock.now(cpu) - n, "step", cpu=cpu))

    def reverse_nexti(self, n: int = 1) -> NoReturn:
        """Back to the previous instruction of this frame (calls it made are skipped)."""
        if n < 1:
            raise DebuggerError("reverse-nexti takes a positive count")
        self._reverse_nexti(self.machine.cpus[self.selected_cpu], n)

    def reverse_continue(self) -> NoReturn:
        """Back to the last breakpoint or watchpoint hit before this point."""
        self._scan_back(Breakpoints())

    def reverse_finish(self) -> NoReturn:
        """Back to the call that entered the current guest function."""
        if self.python_frame is not None:
            raise DebuggerError(
                "reverse-finish goes back over guest calls only; in Python, use reverse-stepi"
            )
        cpu = self.machine.cpus[self.selected_cpu]
        ret = self._return_address(cpu.read("esp"))
        if ret is None:
            raise DebuggerError('"reverse-finish" not meaningful in the outermost frame')
        self._scan_back(CallOf(cpu.index, ret[0], ret[1]))

    def forget_history(self) -> None:
        """Drop every checkpoint: the history starts again here (the gdb stub, for
        a new client)."""
        if self.timeline is not None:
            self.timeline.close()
            self.clock.cancel(self._checkpoints)
            self._checkpoints = self.clock.call_at(self.clock.now(), self._checkpoint_due)

    def _reverse_nexti(self, cpu, n: int) -> NoReturn:
        frame = (self.kern.current_addr(cpu.index), cpu.read("eip"), cpu.read("esp"))
        here = self.clock.now(cpu.index)
        self._go_back(Goto(here - 1, "step", cpu=cpu.index, frame=frame, then_nexti=n - 1))

    # -- handing the session over --------------------------------------------------------

    def _history(self):
        if self.timeline is None:
            raise DebuggerError("going back needs fork(), which this system lacks")
        if self.timeline.oldest() is None:
            raise DebuggerError("No more reverse-execution history.")
        return self.timeline

    def _go_back(self, mode, point=None) -> NoReturn:
        """Hand the session to the checkpoint for ``mode`` (a Goto before the history
        goes to its start, as gdb does)."""
        timeline = self._history()
        if point is None and type(mode) is Goto:
            if mode.cpu is None and mode.target < timeline.oldest():
                mode = Goto(timeline.oldest(), "history")
            point = timeline.at_or_before(mode.target, mode.cpu)
            if point is None:
                mode, point = Goto(timeline.oldest(), "history"), timeline.points[0]
        timeline.go_back(point, self._message(mode))

    def _scan_back(self, what) -> NoReturn:
        """Scan the interval before this point, then older ones, for ``what``."""
        timeline = self._history()
        point = timeline.before(self.icount)
        if point is None:
            self._go_back(Goto(timeline.oldest(), "history"))
        self._go_back(Scan(point.icount, self.icount, what), point)

    def _message(self, mode) -> dict:
        bps = [
            (b.number, b.kind, b.spec, b.addr, b.length, b.condition, b.enabled, b.temporary)
            for b in self._bps.values()
        ]
        ui = self.ui_state[0]() if self.ui_state else None
        return {"mode": mode, "breakpoints": bps, "ui": ui}

    def _woken(self, message: dict) -> None:
        """This checkpoint was woken: take over the session as it is now."""
        for number in list(self._bps):
            self.delete(number)
        for number, kind, spec, addr, length, condition, enabled, temporary in message[
            "breakpoints"
        ]:
            self._next_number = number
            if kind == "breakpoint":
                bp = self.break_at(spec, condition, temporary)
            else:
                kinds = {"watchpoint": "write", "rwatch": "read", "awatch": "access"}
                bp = self.watch(addr, length, kinds[kind])
            bp.enabled = enabled
        self._next_number = max(self._bps, default=0) + 1
        if self.ui_state and message["ui"] is not None:
            self.ui_state[1](message["ui"])
        self._mode = message["mode"]
        self._scan_hits = []
        self._pending = self._resume_at = None
        self._apply()
        for woken in self.on_woken:
            woken()

    # -- checkpoints ------------------------------------------------------------------------

    def _checkpoint_due(self, cpu) -> None:
        """Every INTERVAL instructions: a checkpoint, if it is worth its cost (never
        while scanning: the scan's process goes back when it is done)."""
        now = self.clock.now()
        if type(self._mode) is not Scan and self.timeline.due():
            self._take_checkpoint()
        self._checkpoints = self.clock.call_at(now + INTERVAL, self._checkpoint_due)

    def _take_checkpoint(self) -> None:
        message = self.timeline.checkpoint(self.clock.now(), self.clock.counts)
        if message is not None:
            self._woken(message)

    # -- what a woken checkpoint runs ----------------------------------------------------

    def _replay_deadline(self, mode) -> None:
        if type(mode) is Scan:
            self._deadline = self.clock.call_at(mode.end, self._scan_done)
            return
        self._deadline = self.clock.call_at(mode.target, self._goto_reached, mode.cpu)
        near = mode.target - NEAR
        if mode.cpu is None and near > self.clock.now():
            self.clock.call_at(near, lambda cpu: self._take_checkpoint())

    def _goto_reached(self, cpu) -> None:
        mode = self._mode
        self._deadline = None
        if mode.frame is not None:
            self._reverse_nexti_arrived(cpu, mode)
        elif mode.then_nexti:
            self._reverse_nexti(cpu, mode.then_nexti)
        details = {}
        if mode.breakpoint in self._bps:
            details["breakpoint"] = self._bps[mode.breakpoint]
        if mode.watch is not None:
            details["watch"] = mode.watch
        self._stop(cpu, mode.reason, cpu.read("eip"), boundary=True, **details)

    def _reverse_nexti_arrived(self, cpu, mode: Goto) -> None:
        """Back one instruction of this CPU: still this frame, or the ret of a call
        it made (then back to the call), or another task (then this one's last)."""
        task, pc, sp = mode.frame
        esp = cpu.read("esp")
        if self.kern.current_addr(cpu.index) != task:
            self._scan_back(FrameOf(cpu.index, task, sp, mode.then_nexti))
        if esp < sp and self._insn(cpu.read("eip")).text.startswith("ret"):
            if self.machine.mem.u32(esp) == pc:
                self._scan_back(CallOf(cpu.index, pc, sp - 4, mode.then_nexti))
        if mode.then_nexti:
            self._reverse_nexti(cpu, mode.then_nexti)

    def _scan_done(self, cpu) -> NoReturn:
        """The end of the interval: its last hit, or the interval before."""
        mode = self._mode
        if self._scan_hits:
            self._go_back(self._scan_hits[-1])
        older = self.timeline.before(mode.start)
        if older is None:  # nothing in the whole history: its start, as gdb says
            self._go_back(Goto(mode.start, "history"))
        self._go_back(Scan(older.icount, mode.start, mode.what), older)

    def _replayed_to_idle(self, cpu) -> None:
        """A replay reached the idle machine, the end of the history: a scan is
        done; a goto's target is this idle stop."""
        if type(self._mode) is Scan:
            self._scan_done(cpu)
        self._mode = Continue()

    # -- noting hits while scanning ----------------------------------------------------

    def _scan_sites(self, mode) -> set[int]:
        """The call instructions a CallOf scan watches: those that return to ``ret``."""
        if type(mode) is not Scan or type(mode.what) is not CallOf:
            return set()
        ret = mode.what.ret
        return {ret - n for n in (5, 2, 3, 6) if self._calls_to(ret - n, ret)}

    def _calls_to(self, addr: int, ret: int) -> bool:
        insn = self._insn(addr)
        return addr + insn.size == ret and insn.text.startswith("call")

    @staticmethod
    def _scan_needs_every(what) -> bool:
        return type(what) is FrameOf

    def _note(self, count: int, reason: str = "step", **details) -> None:
        self._scan_hits.append(Goto(count, reason, **details))

    def _replayed_site(self, cpu, addr: int) -> None:
        """A breakpoint's (or a scanned call's) address reached while replaying."""
        mode = self._mode
        if type(mode) is not Scan:
            return
        what = mode.what
        if type(what) is Breakpoints:
            bp = self._breakpoint_here(cpu, addr)
            if bp is not None:
                self._note(self.clock.now() - 1, "breakpoint", breakpoint=bp.number)
        elif type(what) is CallOf:
            if cpu.index == what.cpu and cpu.read("esp") == what.slot + 4:
                self._note(self.clock.now() - 1, then_nexti=what.then_nexti)

    def _replayed_watch(self, bp, old: int, new: int) -> None:
        """A watchpoint hit while replaying: the forward run stopped right after the
        store, before this CPU's next instruction (a count of its own)."""
        mode = self._mode
        if type(mode) is Scan and type(mode.what) is Breakpoints:
            cpu = self.machine.loaded.index
            watch = (bp.addr, old, new)
            self._note(self.clock.now(cpu), "watchpoint", cpu=cpu, breakpoint=bp.number,
                       watch=watch)  # fmt: skip

    def _scan_instruction(self, cpu, addr: int) -> None:
        what = self._mode.what
        if (
            type(what) is FrameOf
            and cpu.index == what.cpu
            and self.kern.current_addr(cpu.index) == what.task
            and cpu.read("esp") >= what.sp
        ):
            self._note(self.clock.now() - 1, then_nexti=what.then_nexti)
