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
from debugger.modes import CONTINUE, Breakpoints, CallOf, FrameOf, Goto, Scan
from debugger.timeline import INTERVAL

NEAR = INTERVAL  # a replay to a count takes a checkpoint this short of it
HITS_KEPT = 100_000  # breakpoint and watchpoint hits the log keeps


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
        """Back to the last breakpoint or watchpoint hit before this point: from the
        hits log if every breakpoint there is was watched since before it, else
        found by scanning."""
        hit = self._logged_hit(self.icount)
        if hit is not None:
            self._go_back(hit)
        self._scan_back(Breakpoints())

    def _logged_hit(self, here: int) -> Goto | None:
        watched = [b for b in self._bps.values() if b.enabled and b.code is None]
        if not watched:
            return None
        frontier = max(self._hits_floor, *(b.since for b in watched))
        numbers = {b.number for b in watched}
        for count, number, way in reversed(self._hits):
            if count < frontier:
                return None
            if count < here and number in numbers:
                return way or Goto(count, "breakpoint", breakpoint=number)
        return None

    def _log_hit(self, count: int, number: int, way: Goto | None = None) -> None:
        """Breakpoint ``number`` hit, at instruction ``count`` (a stop, or the
        instruction after one); ``way`` back to it, if not simply to ``count``.  The
        log is cut in half, from its oldest end, past HITS_KEPT."""
        hits = self._hits
        entry = (count, number, way)
        if hits and hits[-1] == entry:
            return
        hits.append(entry)
        if len(hits) > HITS_KEPT:
            del hits[: HITS_KEPT // 2]
            self._hits_floor = hits[0][0]

    def _watch_hit(self, bp, old: int, new: int) -> Goto:
        """The way back to right after this store: before this CPU's next instruction."""
        cpu = self.machine.loaded.index
        return Goto(self.clock.now(cpu), "watchpoint", cpu=cpu, breakpoint=bp.number,
                    watch=(bp.addr, old, new))  # fmt: skip

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
            self._hits, self._hits_floor = [], self.icount
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
            (b.number, b.kind, b.spec, b.addr, b.length, b.condition, b.enabled, b.temporary,
             b.since)
            for b in self._bps.values()
        ]  # fmt: skip
        ui = self.ui_state[0]() if self.ui_state else None
        # A scan's checkpoint is used up: it takes one at its first hit instead.
        return {"mode": mode, "breakpoints": bps, "ui": ui, "keep": type(mode) is not Scan,
                "hits": (self._hits, self._hits_floor)}  # fmt: skip

    def _woken(self, message: dict) -> None:
        """This checkpoint was woken: take over the session as it is now."""
        mode = message["mode"]
        # Going to a count: the future beyond it is run again (the log holds no more
        # of it, and every breakpoint's hits from there on are logged as it runs).
        until = mode.target if type(mode) is Goto and mode.cpu is None else None
        for number in list(self._bps):
            self.delete(number)
        for number, kind, spec, addr, length, condition, enabled, temporary, since in message[
            "breakpoints"
        ]:
            self._next_number = number
            if kind == "breakpoint":
                bp = self.break_at(spec, condition, temporary)
            else:
                kinds = {"watchpoint": "write", "rwatch": "read", "awatch": "access"}
                bp = self.watch(addr, length, kinds[kind])
            bp.enabled = enabled
            bp.since = since if until is None else min(since, until)
        self._next_number = max(self._bps, default=0) + 1
        self._hits, self._hits_floor = message["hits"]
        if until is not None:
            self._hits = [h for h in self._hits if h[0] <= until]
        if self.ui_state and message["ui"] is not None:
            self.ui_state[1](message["ui"])
        self._mode = mode
        self._scan_hits = []
        self._pending = self._resume_at = None
        if self._checkpoints is None and type(self._mode) is not Scan:
            self._checkpoints = self.clock.call_at(self.clock.now(), self._checkpoint_due)
        self._apply()
        for woken in self.on_woken:
            woken()

    # -- checkpoints ------------------------------------------------------------------------

    def _checkpoint_due(self, cpu=None) -> None:
        """Every INTERVAL instructions: a checkpoint, if it is worth its cost (none
        while scanning: the scan's process goes back when it is done)."""
        if type(self._mode) is Scan:
            self._checkpoints = None
            return
        if self.timeline.due():
            self._take_checkpoint()
        now = self.clock.now()
        self._checkpoints = self.clock.call_at(
            now + self.timeline.next_look(now), self._checkpoint_due
        )

    def _take_checkpoint(self) -> bool:
        """Fork one here; True in the copy, once it has been woken (and has taken
        the session over)."""
        message = self.timeline.checkpoint(self.clock.now(), self.clock.counts)
        if message is not None:
            self._woken(message)
        return message is not None

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
        """The end of the interval: its last hit, or one before it, at least twice
        as long (the checkpoints between are skipped: fewer hops, the same replay)."""
        mode = self._mode
        if self._scan_hits:
            self._go_back(self._scan_hits[-1])
        timeline = self.timeline
        if timeline.before(mode.start) is None:  # nothing in the whole history: its start
            self._go_back(Goto(mode.start, "history"))
        older = timeline.at_or_before(mode.start - 2 * (mode.end - mode.start))
        older = older or timeline.points[0]
        self._go_back(Scan(older.icount, mode.start, mode.what), older)

    def _replayed_to_idle(self, cpu) -> None:
        """A replay reached the idle machine, the end of the history: a scan is
        done; a goto's target is this idle stop."""
        if type(self._mode) is Scan:
            self._scan_done(cpu)
        self._mode = CONTINUE

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

    def _note(self, count: int, reason: str = "step", **details) -> bool:
        """A hit, at instruction ``count``; True if it is the interval's first."""
        self._scan_hits.append(Goto(count, reason, **details))
        return len(self._scan_hits) == 1

    def _noted_here(self, cpu, addr: int, **details) -> None:
        """From a code hook: a hit before this instruction; at the first, a
        checkpoint there (the one the scan was woken from is used up)."""
        if self._note(self.clock.now() - 1, **details):
            self.clock.pause(lambda c: self._scan_checkpoint(c, addr))

    def _scan_checkpoint(self, cpu, pc: int) -> None:
        if not self._take_checkpoint():  # the scan goes on: its hit here is noted
            self._resume_at = (cpu.index, self.clock.now(), pc)

    def _replayed_site(self, cpu, addr: int) -> None:
        """A breakpoint's (or a scanned call's) address reached while replaying."""
        mode = self._mode
        if type(mode) is not Scan or self._resuming(cpu, addr):
            return
        what = mode.what
        if type(what) is Breakpoints:
            bp = self._breakpoint_here(cpu, addr)
            if bp is not None:
                self._noted_here(cpu, addr, reason="breakpoint", breakpoint=bp.number)
        elif type(what) is CallOf:
            if cpu.index == what.cpu and cpu.read("esp") == what.slot + 4:
                self._noted_here(cpu, addr, then_nexti=what.then_nexti)

    def _replayed_watch(self, bp, old: int, new: int) -> None:
        """A watchpoint hit while replaying: the forward run stopped right after the
        store, before this CPU's next instruction (a count of its own)."""
        mode = self._mode
        if type(mode) is Scan and type(mode.what) is Breakpoints:
            self._scan_hits.append(self._watch_hit(bp, old, new))
            if len(self._scan_hits) == 1:
                self._pend_call(lambda c: self._scan_checkpoint(c, c.read("eip")))

    def _scan_instruction(self, cpu, addr: int) -> None:
        what = self._mode.what
        if (
            type(what) is FrameOf
            and cpu.index == what.cpu
            and self.kern.current_addr(cpu.index) == what.task
            and cpu.read("esp") >= what.sp
        ):
            self._noted_here(cpu, addr, then_nexti=what.then_nexti)
