"""The debugger's shell: gdb's commands over the engine (debugger/engine.py)
and the views of debugger/.  It reads lines (a prompt_toolkit prompt on a
terminal, plain lines otherwise, ``-x`` files first), and every mistake is
one line on stderr after which the session goes on; ``--batch`` remembers
that something failed for the exit status."""

import os
import re
import signal
import sys
import termios
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field

from debugger import examine as xm
from debugger import registers as rg
from debugger.context import context, style, use_colour
from debugger.engine import BreakpointRefused, DebuggerError, QuitDebugger
from debugger.expr import CExpr, CInt, EvalError, ExprError, Pointer, as_int
from debugger.gdbfmt import FormatError, parse_fmt
from debugger.ps import snapshot
from debugger.ptregs import FORMATS as PTREGS_FORMATS
from debugger.tasks import (
    TaskError,
    find_task,
    info_threads,
    python_line,
    task_registers,
    tasks_listing,
)
from debugger.values import Env, format_value, historic
from kernel_model.process_32 import task_pt_regs
from kernel_model.ptrace import pt_regs

PROMPT = "(kdb) "
MAX_SOURCE_DEPTH = 16  # files sourcing files (gdb has no bound: it runs out of descriptors)
MAX_USER_DEPTH = 1024  # user commands calling user commands: gdb's max-user-call-depth
MAX_SCRIPT_COMMANDS = 100_000  # commands one typed line may run through user commands and files
MAX_APPLY_DEPTH = 3  # thread apply inside the command of a thread apply
RESUMING = {
    "continue": "cont", "stepi": "stepi", "nexti": "nexti", "step": "step", "next": "next",
    "finish": "finish", "until": "until", "advance": "advance", "run": "cont",
    "reverse-stepi": "reverse_stepi", "reverse-nexti": "reverse_nexti",
    "reverse-continue": "reverse_continue", "reverse-finish": "reverse_finish",
}  # fmt: skip
ALIASES = {
    "b": "break", "br": "break", "tb": "tbreak", "c": "continue", "cont": "continue",
    "si": "stepi", "ni": "nexti", "s": "step", "n": "next", "fin": "finish", "u": "until",
    "bt": "backtrace", "where": "backtrace", "p": "print", "i": "info", "disas": "disassemble",
    "d": "delete", "q": "quit", "r": "run", "rsi": "reverse-stepi", "rni": "reverse-nexti",
    "rc": "reverse-continue", "thread": "task", "inspect": "print", "l": "list",
}  # fmt: skip
WATCH_TYPES = {"watchpoint": "hw watchpoint", "rwatch": "read watchpoint",
               "awatch": "acc watchpoint"}  # gdb's Type column  # fmt: skip
INFO = ("registers", "all-registers", "segments", "gdt", "symbol", "threads", "breakpoints",
        "watchpoints")  # fmt: skip


class CommandError(Exception):
    """A command that failed: its one line."""


class Quit(Exception):
    """The user quit (or the batch ended)."""


@dataclass
class Session:
    """What the shell remembers between commands."""

    examine: xm.Examine = field(default_factory=xm.Examine)
    history: list = field(default_factory=list)
    defines: dict = field(default_factory=dict)
    last_resume: str | None = None
    context_on: bool = True
    before: dict | None = None
    failed: bool = False
    stop: object = None
    list_at: tuple | None = None  # the stop `list` last listed around
    list_next: int = 1
    watch_text: dict = field(default_factory=dict)  # watchpoint number -> the expression typed
    warned_sources: set = field(default_factory=set)  # files `list` said changed


@dataclass
class Frame:
    """A user command's body or a sourced file being run: its lines, the next one,
    and where it was called from.  Lines are taken one at a time, each after the
    last has finished, as gdb runs them: a command that resumes the machine
    returns to the engine, and the rest runs at the next stop."""

    kind: str  # "define" or "source"
    name: str  # the command's name, or the file's path
    lines: list  # shared with the definition, never copied
    args: tuple = ()
    called_at: str | None = None  # FILE:LINE of the sourced line that ran a user command
    pos: int = 0

    def next_line(self, raw: bool = False) -> str | None:
        if self.pos >= len(self.lines):
            return None
        line = self.lines[self.pos]
        self.pos += 1
        return line if raw else _ARG.sub(self._arg, line)

    def _arg(self, m) -> str:
        if m.group(1) == "c":
            return str(len(self.args))
        n = int(m.group(1))
        return self.args[n] if n < len(self.args) else m.group(0)

    def where(self) -> str | None:
        """FILE:LINE for a message about the line just taken (None: typed)."""
        return f"{self.name}:{self.pos}" if self.kind == "source" else self.called_at


_ARG = re.compile(r"\$arg(c|\d{1,4})")


class Lines:
    """Where commands come from: the user commands and sourced files being run
    (innermost first), then the lines of the -x files still to run, then the
    terminal or standard input.  Going back in time (a forked checkpoint takes
    over the session) hands over what is still pending, frames included."""

    def __init__(self, pending=(), more=()):
        self.pending, self.more = deque(pending), iter(more)
        self.frames: list[Frame] = []
        self.waiting = None  # called before waiting for a line (the shell flushes its output)

    def __iter__(self):
        return self

    def __next__(self) -> str:
        while self.frames:
            line = self.frames[-1].next_line()
            if line is not None:
                return line
            self.frames.pop()
        return self.typed()

    def typed(self) -> str:
        """The next line of the -x files or of the user (StopIteration: the input ended)."""
        if self.pending:
            return self.pending.popleft()
        if self.waiting is not None:
            self.waiting()
        return next(self.more)

    @property
    def frame(self) -> Frame | None:
        """The frame the last line came from (None: typed or from -x)."""
        return self.frames[-1] if self.frames else None


class Shell:
    def __init__(self, kern, engine_factory=None, out=None, err=None, batch=False):
        self.kern, self.batch = kern, batch
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.dis = xm.Disassembly(kern)
        self.s = Session()
        self.engine = engine_factory(kern, self.on_stop) if engine_factory else None
        self._cpu = 0
        self._pid = None
        self.colour = not batch and use_colour(out)
        self.lines = Lines()  # the line source (run() sets the session's)
        self._script_commands = 0  # run from frames since the last typed line
        self._apply_depth = 0  # thread apply nesting
        self._no_resume = None  # why a command may not resume the machine now (thread apply)
        self.recorder = None  # `record start` makes one
        self._running = False  # the machine runs (on_stop returned), for Ctrl-C
        self._line_step = False  # the last resume was step/next: show the line reached

    # -- selection and state (through the engine when there is one) ---------

    @property
    def cpu(self) -> int:
        return self.engine.selected_cpu if self.engine else self._cpu

    @property
    def pid(self) -> int:
        if self.engine:
            return self.engine.selected_task
        return self.kern.current(self._cpu).pid if self._pid is None else self._pid

    def task(self):
        if self.engine:
            return self.engine.task()
        return find_task(self.kern, self.pid)

    def regs(self) -> dict:
        if self.engine:
            return self.engine.registers(self.pid)
        return task_registers(self.kern, self.task())

    def python_locals(self) -> dict:
        frame = getattr(self.s.stop, "python_frame", None)
        return dict(frame.f_locals) if frame is not None else {}

    def env(self) -> Env:
        return Env(self.kern, self.regs(), self.task(), self.python_locals(), self.s.history)

    def value(self, text: str):
        try:
            return CExpr(text).value(self.env())
        except (ExprError, EvalError, TaskError) as err:
            raise CommandError(str(err)) from None

    def lvalue(self, text: str) -> int:
        """Where ``text`` lives, as gdb's ``watch`` reads it (``*ADDR``, ``p->field``)."""
        if not text.strip():
            raise CommandError("Argument required (expression to compute).")
        addr = self.value(f"&({text})")
        return addr & 0xFFFFFFFF

    def condition(self, text: str, cpu) -> int:
        """A breakpoint's condition, on the CPU that reached it (the engine calls this)."""
        task = self.kern.current(cpu.index)
        frame = self.engine.python_frame
        env = Env(self.kern, task_registers(self.kern, task), task,
                  dict(frame.f_locals) if frame is not None else {}, self.s.history)  # fmt: skip
        try:
            return as_int(CExpr(text).value(env))
        except (ExprError, EvalError, TaskError) as err:
            self.complain(f"Error in testing condition for breakpoint: {err}")
            return 1

    def address(self, text: str) -> int:
        value = self.value(text)
        addr = getattr(value, "addr", value)
        if not isinstance(addr, int):
            raise CommandError(f"{text}: not an address")
        return addr & 0xFFFFFFFF

    # -- output ---------------------------------------------------------------

    def say(self, *lines: str) -> None:
        """Lines on the output; flushed before the next line of input is waited
        for, before an error, and before going back in time (a fork)."""
        if lines:
            self.out.write("\n".join(lines) + "\n")

    def complain(self, message: str) -> None:
        """An error: one line on stderr, and ``--batch`` exits with status 1."""
        self.s.failed = True
        self.warn(message)

    def warn(self, message: str) -> None:
        self.out.flush()
        print(message, file=self.err)
        self.err.flush()

    # -- the loop ---------------------------------------------------------------

    def run(self, lines) -> int:
        """Read and run ``lines`` (an iterator of commands) until they end or quit;
        returns the exit status."""
        self.lines = lines if isinstance(lines, Lines) else Lines([], lines)
        self.lines.waiting = self.out.flush
        sigint = self._catch_sigint()
        try:
            if self.engine is not None:
                self.engine.ui_state = (self.save_ui, self.restore_ui)
                self.engine.evaluator = self.condition
                self.engine.start()
            else:
                self.command_loop()
        except Quit:
            pass
        finally:
            self.out.flush()
            if sigint is not None:
                signal.signal(signal.SIGINT, sigint)
        return 1 if self.batch and self.s.failed else 0

    def _catch_sigint(self):
        """Ctrl-C while the machine runs stops it at the next instruction (gdb's
        SIGINT stop, the machine consistent); while a command runs it drops the
        command.  Returns the handler it replaced (None: not the main thread)."""
        if self.engine is None or threading.current_thread() is not threading.main_thread():
            return None
        return signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, _signum, _frame) -> None:
        if self._running:
            self.engine.interrupt()
        else:
            raise KeyboardInterrupt

    def save_ui(self):
        """What a checkpoint taking over the session needs (picklable)."""
        s = self.s
        return (list(self.lines.pending), self.lines.frames, self._script_commands, s.history,
                s.defines, s.last_resume, s.context_on, s.failed, s.watch_text)  # fmt: skip

    def restore_ui(self, state) -> None:
        pending, frames, commands, history, defines, last_resume, context_on, failed, watch = state
        self.lines.pending, self.lines.frames = deque(pending), frames
        self._script_commands = commands
        self.s.history, self.s.defines, self.s.last_resume = history, defines, last_resume
        self.s.context_on, self.s.failed, self.s.watch_text = context_on, failed, watch

    def on_stop(self, stop) -> None:
        """The engine stopped: show where, then read commands until one resumes."""
        self._running = False
        self.s.stop, self.s.list_at = stop, None
        message = getattr(stop, "message", None) or str(stop)
        if message:
            self.say(message)
        if self._line_step and getattr(stop, "reason", None) == "step" and not stop.python:
            where = self.kern.machine.source_line(stop.pc)
            if where is not None:
                self.say(f"{where[1]}\t{where[2]}")  # gdb's line after a step in source
        # The registers at this stop, to mark those the next stop changes: read
        # only while the context view (which shows the marks) is on.
        before = None
        if self.s.context_on:
            shown = getattr(stop, "reason", None) != "start"
            before = self.show_context() if shown else self.regs()
        self.s.before = before
        if not self.command_loop():
            raise self._quit()
        self._running = True

    def _quit(self):
        if self.engine is None:
            return Quit()
        # A checkpoint that took over the session reports this to the first process.
        self.engine.exit_status = 1 if self.batch and self.s.failed else 0
        return QuitDebugger()

    def command_loop(self) -> bool:
        """Run commands; True when one resumed the machine, False when input ended."""
        while True:
            try:
                for line in self.lines:
                    if self.run_line(line, self.lines.frame):
                        return True
                return False
            except KeyboardInterrupt:  # Ctrl-C during a command: drop it (and its script)
                self.lines.frames.clear()
                self.complain("Quit")

    def run_line(self, line: str, frame: Frame | None) -> bool:
        """Run one line taken from ``frame`` (None: typed, or from -x); True if it
        resumed the machine.  An error is one line, and it ends the user commands
        and sourced files being run, as in gdb."""
        try:
            if frame is None:
                self._script_commands = 0
            else:
                self._count_script_command()
            return self.dispatch(line, frame)
        except SHELL_ERRORS as err:
            where = frame.where() if frame is not None else None
            self.lines.frames.clear()
            self.complain(f"{where}: {err}" if where else str(err))
        return False

    def _count_script_command(self) -> None:
        self._script_commands += 1
        if self._script_commands > MAX_SCRIPT_COMMANDS:
            raise CommandError(f"more than {MAX_SCRIPT_COMMANDS} commands run by one command "
                               "line (user commands and sourced files): stopped")  # fmt: skip

    def execute(self, line: str) -> bool:
        """Run one command line, with the user command or file it starts, to its end
        or until a command resumes the machine; True if one did.  (The gdb stub's
        ``monitor`` runs lines here.)"""
        try:
            return self.run_nested(line)
        except SHELL_ERRORS as err:
            self.complain(str(err))
        return False

    def run_nested(self, line: str) -> bool:
        """``line`` and the lines of what it starts, now; an error propagates."""
        frames = self.lines.frames
        depth = len(frames)
        try:
            resumed = self.dispatch(line, self.lines.frame)
            while not resumed and len(frames) > depth:
                text = frames[-1].next_line()
                if text is None:
                    frames.pop()
                    continue
                self._count_script_command()
                resumed = self.dispatch(text, frames[-1])
        except BaseException:
            del frames[depth:]
            raise
        return resumed

    def dispatch(self, text: str, frame: Frame | None = None) -> bool:
        """One command line (taken from ``frame``); True if it resumed the machine."""
        text = text.strip()
        if not text:
            if frame is not None or self.s.last_resume is None:
                return False  # an empty line repeats a command only when typed
            text = self.s.last_resume
        if text.startswith("#"):
            return False
        word, rest = split_command(text)
        if word in self.s.defines:
            self.run_defined(word, rest, frame)
            return False
        name = resolve_command(word)
        if name in RESUMING:
            if self._no_resume:
                raise CommandError(self._no_resume)
            self.s.last_resume = text
            self._line_step = name in ("step", "next")
            return self.resume(name, rest)
        if name == "define":
            self.define(rest, frame)
            return False
        if name == "quit":
            raise self._quit()
        getattr(self, "cmd_" + name.replace("-", "_"))(rest)
        return False

    # -- run control (the engine's interface) ---------------------------------

    def need_engine(self):
        if self.engine is None:
            raise CommandError(
                "The program is not being run: run control needs debugger/engine.py's Debugger"
            )
        return self.engine

    def resume(self, name: str, rest: str) -> bool:
        engine = self.need_engine()
        method = getattr(engine, RESUMING[name])
        if name in ("stepi", "nexti", "reverse-stepi", "reverse-nexti") and rest:
            method(self.count(rest))
        elif name in ("until", "advance") and rest:
            method(rest)
        elif name == "advance":
            raise CommandError("Argument required (a location).")
        else:
            if name == "finish":
                frames = engine.frames(self.pid)
                if frames:
                    self.say(f"Run till exit from #0  {frames[0]}")
            method()
        return True

    def count(self, text: str) -> int:
        value = self.value(text)
        if not isinstance(value, int) or value < 1:
            raise CommandError(f"{text}: a count must be a positive number")
        return value

    def cmd_break(self, rest, temporary=False):
        engine = self.need_engine()
        spec, _, cond = rest.partition(" if ")
        if not spec.strip():
            raise CommandError("Argument required (a location).")
        if cond.strip():
            try:
                CExpr(cond)  # refused here, before the engine sees it
            except ExprError as err:
                raise CommandError(str(err)) from None
        try:
            bp = engine.break_at(spec.strip(), condition=cond.strip() or None, temporary=temporary)
        except BreakpointRefused as err:
            raise CommandError(str(err)) from None
        except (ValueError, KeyError, LookupError) as err:
            raise CommandError(f'Function "{spec.strip()}" not defined. ({err})') from None
        kind = "Temporary breakpoint" if temporary else "Breakpoint"
        self.say(f"{kind} {bp.number} at {bp.location}")

    def cmd_tbreak(self, rest):
        self.cmd_break(rest, temporary=True)

    def cmd_delete(self, rest):
        engine = self.need_engine()
        numbers = rest.split() or [None]
        for n in numbers:
            engine.delete(None if n is None else self.count(n))

    def cmd_enable(self, rest):
        for n in rest.split():
            self.need_engine().enable(self.count(n))

    def cmd_disable(self, rest):
        for n in rest.split():
            self.need_engine().disable(self.count(n))

    def watch(self, rest, kind):
        engine = self.need_engine()
        length = 4
        wp = engine.watch(self.lvalue(rest), length, kind)
        self.s.watch_text[wp.number] = rest.strip()
        names = {"write": "Hardware watchpoint", "read": "Hardware read watchpoint",
                 "access": "Hardware access (read/write) watchpoint"}  # fmt: skip
        self.say(f"{names[kind]} {getattr(wp, 'number', '')}: {rest}")

    def cmd_watch(self, rest):
        self.watch(rest, "write")

    def cmd_rwatch(self, rest):
        self.watch(rest, "read")

    def cmd_awatch(self, rest):
        self.watch(rest, "access")

    def cmd_backtrace(self, rest):
        frames = self.need_engine().frames(self.pid)
        self.say(*(f"#{i:<2} {frame}" for i, frame in enumerate(frames)))

    # -- state ------------------------------------------------------------------

    def cmd_info(self, rest):
        word, args = split_command(rest)
        if not word:
            raise CommandError('"info" must be followed by the name of an info command.')
        matches = [n for n in INFO if n.startswith(word)] if word not in ("r", "b") else None
        sub = {"r": "registers", "b": "breakpoints"}.get(word) or (
            matches[0] if matches and (len(matches) == 1 or word in INFO) else None
        )
        if sub is None:
            raise CommandError(f'Undefined info command: "{word}".  Try "help info".')
        kern, cpu = self.kern, self.cpu
        if sub == "registers":
            self.say(*rg.info_registers(self.regs(), kern.symbols, args.split()))
        elif sub == "all-registers":
            self.say(*rg.info_all_registers(kern, cpu, self.regs()))
        elif sub == "segments":
            self.say(*rg.info_segments(kern, cpu, self.regs()))
        elif sub == "gdt":
            self.say(*rg.info_gdt(kern, cpu))
        elif sub == "symbol":
            if not args:
                raise CommandError("Argument required (address).")
            self.say(xm.info_symbol(kern, self.address(args)))
        elif sub == "threads":
            self.say(*info_threads(kern, self.pid, self.need_engine().registers))
        else:
            self.info_points(watch_only=sub == "watchpoints")

    def info_points(self, watch_only: bool) -> None:
        """gdb's table of breakpoints and watchpoints (``info watchpoints``: only those)."""
        points = [
            bp for bp in self.need_engine().breakpoints
            if not watch_only or bp.kind in WATCH_TYPES
        ]  # fmt: skip
        if not points:
            self.say("No watchpoints." if watch_only else "No breakpoints or watchpoints.")
            return
        self.say("Num     Type            Disp Enb Address    What")
        for bp in points:
            disp = "del " if bp.temporary else "keep"
            enb = "y" if bp.enabled else "n"
            if bp.kind in WATCH_TYPES:
                what = self.s.watch_text.get(bp.number, bp.location)
                self.say(f"{bp.number:<7} {WATCH_TYPES[bp.kind]:<15} {disp} {enb}{'':14}{what}")
            else:
                self.say(f"{bp.number:<7} breakpoint      {disp} {enb}   {bp.location}")
            if bp.condition:
                self.say(f"\tstop only if {bp.condition}")
            if bp.hits:
                self.say(f"\tbreakpoint already hit {bp.hits} time{'s' if bp.hits > 1 else ''}")

    def cmd_x(self, rest):
        spec, addr_text = "", rest
        if rest.startswith("/"):
            spec, _, addr_text = rest[1:].partition(" ")
        addr = self.address(addr_text) if addr_text.strip() else None
        pc = self.regs()["eip"]
        self.say(*xm.examine(self.kern, self.dis, self.s.examine, spec, addr, pc))

    def cmd_print(self, rest):
        fmt = None
        if rest.startswith("/"):
            spec, _, rest = rest[1:].partition(" ")
            count, fmt, size = parse_fmt(spec, "xduotca")
            if count not in (None, 1):
                raise CommandError('Item count other than 1 is meaningless in "print" command.')
            if size is not None:
                raise CommandError('Size letters are meaningless in "print" command.')
            if fmt is None:
                raise CommandError(f'Undefined output format "{spec}".')
        if not rest.strip():
            raise CommandError("Argument required (expression to compute).")
        value = self.value(rest)
        self.s.history.append(historic(value))
        text = format_value(value, fmt, self.kern.symbols)
        self.say(f"${len(self.s.history)} = {text}")

    def cmd_output(self, rest):
        self.say(format_value(self.value(rest), None, self.kern.symbols))

    def cmd_disassemble(self, rest):
        pc = self.regs()["eip"]
        addr = self.address(rest) if rest.strip() else pc
        self.say(*xm.disassemble(self.kern, self.dis, addr, pc))

    def cmd_tasks(self, rest):
        self.say(*tasks_listing(self.kern, self.pid))

    def cmd_task(self, rest):
        word, _, args = rest.strip().partition(" ")
        if word == "apply":
            self.thread_apply(args)
            return
        if not rest.strip():
            task = self.task()
            self.say(f"[Current task is {task.pid} ({task.comm.decode(errors='replace')})]")
            return
        pid = self.count(rest) if rest.strip() != "0" else 0
        find_task(self.kern, pid)  # "Invalid thread ID" with the list of tasks
        if self.engine:
            self.engine.select_task(pid)
        else:
            self._pid = pid
        task = self.task()
        comm = task.comm.decode(errors="replace")
        self.say(f"[Switching to task {pid} ({comm})]")
        line = python_line(self.kern, task)
        regs = self.regs()
        self.say(f"#0  {regs['eip']:#010x} in {self.kern.symbols.describe(regs['eip'])}"
                 f"  sp {regs['esp']:#010x}" + (f"  [python] {line}" if line else ""))  # fmt: skip

    def thread_apply(self, text: str) -> None:
        """gdb's ``thread apply all|ID... [-ascending] [-q] [-c] [-s] COMMAND``: the
        command once per task (Id = pid, as ``info threads`` shows them), each
        under a ``Thread N (...)`` header; the selection is restored after."""
        procs = {p.pid: p for p in snapshot(self.kern)}
        pids, flags, command = self._apply_targets(text, sorted(procs))
        if not command:
            raise CommandError("Please specify a command following the thread ID list")
        if self._apply_depth >= MAX_APPLY_DEPTH:
            raise CommandError(f"thread apply: nested more than {MAX_APPLY_DEPTH} deep")
        engine = self.need_engine()
        selected = (engine.selected_cpu, engine.selected_task)
        self._apply_depth += 1
        outer, self._no_resume = self._no_resume, "Cannot resume the machine in thread apply."
        try:
            for pid in pids:
                self._apply_one(procs.get(pid), pid, flags, command)
        finally:
            self._apply_depth -= 1
            self._no_resume = outer
            engine.selected_cpu, engine.selected_task = selected

    @staticmethod
    def _apply_targets(text: str, known: list[int]) -> tuple[list[int], set, str]:
        """(pids, flags, command) of a thread apply's arguments."""
        words = text.split()
        if not words:
            raise CommandError("Please specify a thread ID list")
        i = 1
        if words[0] == "all":
            pids = sorted(known, reverse=True)  # gdb's order: the newest first
            if len(words) > 1 and words[1] == "-ascending":
                pids, i = pids[::-1], 2
        else:
            pids, i = [], 0
            while i < len(words) and (m := _THREAD_RANGE.fullmatch(words[i])):
                first, last = int(m.group(1)), int(m.group(2) or m.group(1))
                if last < first:
                    raise CommandError(f"inverted range: {words[i]}")
                pids += [p for p in known if first <= p <= last] or [first]
                i += 1
            if not pids:
                raise CommandError(f"Invalid thread ID: {words[0]}")
        flags = set()
        while i < len(words) and words[i] in ("-q", "-c", "-s"):
            flags.add(words[i])
            i += 1
        return pids, flags, " ".join(words[i:])

    def _apply_one(self, proc, pid: int, flags: set, command: str) -> None:
        try:
            find_task(self.kern, pid)
            self.engine.select_task(pid)
        except (TaskError, DebuggerError) as err:
            if "-s" in flags:
                return
            raise CommandError(str(err)) from None
        if "-q" not in flags and "-s" not in flags:
            target = f"{proc.comm} pid {pid} {proc.stat[:1]} cpu{proc.cpu}"  # as info threads
            self.say("", f"Thread {pid} (Thread {pid} ({target})):")
        try:
            self.run_nested(command)
        except SHELL_ERRORS as err:
            if "-s" in flags:
                return
            if "-c" not in flags:
                raise
            self.complain(str(err))

    def cmd_cpu(self, rest):
        ncpus = len(self.kern.machine.cpus)
        if not rest.strip():
            self.say(f"[Current CPU is {self.cpu}]")
            return
        value = self.value(rest)
        if not isinstance(value, int) or not 0 <= value < ncpus:
            raise CommandError(f"cpu {rest.strip()}: the machine has {ncpus} CPUs (0-{ncpus - 1})")
        current = self.kern.current_addr(value)
        if not current or not self.kern.is_task(current):
            raise CommandError(f"cpu {value}: not up yet (before boot only CPU 0 runs; "
                               "continue boots the others)")  # fmt: skip
        if self.engine:
            self.engine.select_cpu(value)
        else:
            self._cpu, self._pid = value, None
        task = self.task()
        self.say(
            f"[Switching to CPU {value}, task {task.pid} ({task.comm.decode(errors='replace')})]"
        )

    def cmd_ptregs(self, rest):
        words = rest.split()
        fmt = "show_regs"
        if words and words[-1] in PTREGS_FORMATS:
            fmt = words.pop()
        if len(words) > 1:
            raise CommandError("usage: ptregs [PID|ADDR] [show_regs|struct|json]")
        if not words:
            task = self.task()
        else:
            n = self.address(words[0])
            task = None if n > 0xFFFF else find_task(self.kern, n)
            if task is None:
                frame = (
                    pt_regs(self.kern.mem, n) if self.kern.mem.contains(n, pt_regs.SIZE) else None
                )
                if frame is None:
                    raise xm.cannot_access(n)
                self.say(*PTREGS_FORMATS[fmt](self.kern, self.task(), n, frame.values()))
                return
        frame = task_pt_regs(self.kern, task)
        self.say(*PTREGS_FORMATS[fmt](self.kern, task, frame.addr, frame.values()))

    def cmd_list(self, rest):
        """The source around where the selected task is (gdb's 10 lines; `list`
        again goes on): the Python line stopped at, or the ``.S`` line EIP was
        assembled from (the machine's line table of each loaded image)."""
        file, line, assembled = self.source_position()
        first = self.s.list_next if self.s.list_at == (file, line) else max(line - 5, 1)
        source = self.read_source(file, line, assembled)
        if first > len(source):
            raise CommandError(f"Line number {first} out of range; {file} has {len(source)} lines.")
        shown = source[first - 1 : first + 9]
        self.say(*(f"{first + i}\t{text}" for i, text in enumerate(shown)))
        self.s.list_at, self.s.list_next = (file, line), first + len(shown)

    def read_source(self, file: str, line: int, assembled: str | None) -> list[str]:
        """The lines of a source file.  One that no longer has at ``line`` the
        statement assembled from it changed since it was loaded: gdb's warning,
        once per file; one that is not text any more (or not a file) is refused."""
        try:
            if not os.path.isfile(file) or os.path.getsize(file) > MAX_SOURCE:
                raise CommandError(f"{file}: not a regular file of at most {MAX_SOURCE} bytes "
                                   "any more (it changed since it was loaded)")  # fmt: skip
            with open(file, "rb") as f:
                data = f.read(MAX_SOURCE + 1)
            source = data.decode("utf-8").splitlines() if b"\0" not in data else None
        except OSError as err:
            raise CommandError(f"{file}: {err.strerror}") from None
        except UnicodeDecodeError:
            source = None
        if source is None:
            raise CommandError(f"{file}: not text any more (it changed since it was loaded)")
        if assembled is not None and file not in self.s.warned_sources:
            now = source[line - 1] if line <= len(source) else ""
            if "".join(assembled.split()) not in "".join(now.split()):
                self.s.warned_sources.add(file)
                self.warn("warning: Source file is more recent than executable.")
        return source

    def source_position(self) -> tuple[str, int, str | None]:
        """(file, line, the statement assembled from it: None for Python)."""
        stop = self.s.stop
        python = getattr(stop, "python", None)
        if python is not None and getattr(stop, "pid", None) == self.pid:
            return python[0], python[1], None
        pc = self.regs()["eip"]
        where = self.kern.machine.source_line(pc)
        if where is None:
            raise CommandError(f"No source line for {pc:#x} "
                               f"({self.kern.symbols.describe(pc)}): use disassemble")  # fmt: skip
        return where

    def cmd_context(self, rest):
        self.show_context()

    def show_context(self) -> dict:
        """Show the context view; returns the registers it showed."""
        regs = self.regs()
        lines = context(self.kern, self.dis, regs, self.s.before, self.cpu, self.task())
        self.say(*style(lines, self.colour))
        return regs

    def cmd_set(self, rest):
        words = rest.split()
        if len(words) == 2 and words[0] == "disassembly-flavor" and words[1] in ("att", "intel"):
            self.dis.flavor = words[1]
        elif len(words) == 2 and words[0] == "context" and words[1] in ("on", "off"):
            self.s.context_on = words[1] == "on"
        elif words and words[0].startswith("$"):
            self.set_var(rest)
        elif words and words[0] in ("var", "variable"):
            self.set_var(rest.split(None, 1)[1] if len(words) > 1 else "")
        elif words and words[0] in ("confirm", "pagination", "height", "width"):
            pass  # gdb scripts set these; nothing to do here
        else:
            raise CommandError(f'Undefined set command: "{rest}".  Try "help set".')

    def set_var(self, text: str) -> None:
        """``set var LVALUE = VALUE``: memory, as many bytes as LVALUE's type has (a
        field, ``*ADDR``, ``*(char *)ADDR``); ``set $REG = VALUE``: a live register."""
        left, eq, right = text.partition("=")
        if not eq or not left.strip() or not right.strip() or right.startswith("="):
            raise CommandError("usage: set var LVALUE = VALUE")
        if left.strip().startswith("$"):
            self.set_register(left.strip(), right)
            return
        addr = self.lvalue(left)
        target = self.value(left)
        if isinstance(target, bytes) or not isinstance(target, int | Pointer):
            raise CommandError(f"set var: {left.strip()} is not a number or a pointer")
        size = target.ctype.size if isinstance(target, CInt) else 4
        word = self.number(right) & ((1 << 8 * size) - 1)
        self.need_engine().write_memory(addr, word.to_bytes(size, "little"))

    def set_register(self, name: str, right: str) -> None:
        """The selected task's register, on the CPU it runs on (the engine refuses a
        switched-out task's, and a change of a segment register)."""
        reg = rg.resolve(name)
        value = self.number(right) & 0xFFFFFFFF
        if value != self.regs()[reg]:
            self.need_engine().write_register(reg, value, self.pid)

    def number(self, text: str) -> int:
        try:
            return as_int(self.value(text))
        except EvalError as err:
            raise CommandError(str(err)) from None

    # -- recording ---------------------------------------------------------------

    def cmd_record(self, rest):
        """record start | stop | save FILE [ftrace|perfetto|perfetto-proto]: the
        kernel's events from now on, as `kthreadd-emu record` writes them."""
        from kthreadd_emu.output_file import OutputError
        from kthreadd_emu.tracing.formats import FORMATS, save_trace
        from kthreadd_emu.tracing.recorder import Recorder, RecordError

        word, _, args = rest.strip().partition(" ")
        if word == "start":
            self.recorder = self.recorder or Recorder()
            self.recorder.start(self.kern)
            self.say("Recording the kernel's events (record stop, record save FILE).")
        elif word == "stop":
            if self.recorder is None or not self.recorder.recording:
                raise CommandError("record stop: not recording")
            self.recorder.stop()
            self.say(f"Stopped recording: {len(self.recorder.events)} events.")
        elif word == "save":
            path, _, fmt = args.strip().partition(" ")
            fmt = fmt.strip() or "ftrace"
            if self.recorder is None or not path:
                raise CommandError("usage: record start, then record save FILE [FORMAT]")
            if fmt not in FORMATS:
                raise CommandError(f"record save: unknown format {fmt!r} ({', '.join(FORMATS)})")
            try:
                save_trace(self.recorder, path, fmt)
            except (RecordError, OutputError) as err:
                raise CommandError(f"record save: {err}") from None
            self.say(f"{len(self.recorder.events)} events written to {path} ({fmt}).")
        else:
            raise CommandError("usage: record start | stop | save FILE [FORMAT]")

    # -- scripting ---------------------------------------------------------------

    def cmd_echo(self, rest):
        self.out.write(echo_text(rest))
        self.out.flush()

    def cmd_source(self, rest):
        """Run FILE's lines, each after the last has finished (gdb's source); an
        error ends the file, and the files that sourced it."""
        path = rest.strip()
        if not path:
            raise CommandError("source command requires file name of file to source.")
        if sum(f.kind == "source" for f in self.lines.frames) >= MAX_SOURCE_DEPTH:
            raise CommandError(f"{path}: sourced more than {MAX_SOURCE_DEPTH} files deep")
        self.lines.frames.append(Frame("source", path, read_script(path)))

    def define(self, rest, frame):
        """``define NAME``: the lines up to the matching ``end`` become a command; they
        come from where the ``define`` line came from (a sourced file, a user command,
        the -x files or the terminal)."""
        name = rest.strip()
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise CommandError("define: a command name is required")
        if resolve_command(name, strict=True):
            raise CommandError(f"define: {name} is a built-in command")
        if frame is None and self._apply_depth:
            raise CommandError("define: its body would be the lines after thread apply")
        body, nested = [], 0
        while (line := self._body_line(frame)) is not None:
            word = line.split(None, 1)[0] if line.strip() else ""
            if word == "end" and not nested:
                self.s.defines[name] = body
                return
            nested += (word == "define") - (word == "end")
            body.append(line)
        raise CommandError(f"define {name}: the input ended before `end'")

    def _body_line(self, frame) -> str | None:
        if frame is not None:
            return frame.next_line(raw=True)
        try:
            return self.lines.typed()
        except StopIteration:
            return None

    def run_defined(self, name, rest, frame):
        """A user command: its body runs next, line by line (gdb's execute_user_command)."""
        if sum(f.kind == "define" for f in self.lines.frames) >= MAX_USER_DEPTH:
            raise CommandError("Max user call depth exceeded -- command aborted.")
        called_at = frame.where() if frame is not None else None
        self.lines.frames.append(Frame("define", name, self.s.defines[name], tuple(rest.split()),
                                       called_at))  # fmt: skip

    def cmd_help(self, rest):
        self.say(*HELP)


HELP = [
    "Run control: run, continue (c), stepi (si) [N], nexti (ni) [N], step (s), next (n),",
    "  finish (fin), until, advance LOC, reverse-stepi (rsi), reverse-nexti, reverse-continue,",
    "  reverse-finish; break (b) LOC [if COND], tbreak, delete, enable, disable,",
    "  watch/rwatch/awatch EXPR; info breakpoints.  An empty line repeats the last of these.",
    "State: info registers (i r) [REG...], info all-registers, info segments, info gdt,",
    "  info symbol ADDR, x/NFU ADDR, print/FMT EXPR (p), output EXPR, disassemble [ADDR],",
    "  backtrace (bt), tasks, info threads, task PID (thread), cpu N, ptregs [PID|ADDR] [FORMAT],",
    "  context, thread apply all|PID... [-q] [-c] [-s] CMD, info watchpoints.",
    "  Expressions: $eax, current->comm, task(2)->thread.sp, *(int *)$esp, locals, $1, $, $$.",
    "Changes: set var LVALUE = VALUE, set $REG = VALUE (a running task's live register).",
    "Settings: set disassembly-flavor att|intel, set context on|off.",
    "Scripts: source FILE, define NAME ... end, echo TEXT\\n, quit (q).",
    "Recording: record start | stop | save FILE [ftrace|perfetto|perfetto-proto].",
]
COMMANDS = sorted(
    {*RESUMING, "break", "tbreak", "delete", "enable", "disable", "watch", "rwatch", "awatch",
     "backtrace", "info", "x", "print", "output", "disassemble", "tasks", "task", "cpu",
     "ptregs", "context", "set", "list", "echo", "source", "define", "quit", "help",
     "record"}
)  # fmt: skip


SHELL_ERRORS = (
    CommandError, xm.ExamineError, FormatError, rg.RegisterError, TaskError, DebuggerError
)  # fmt: skip
_THREAD_RANGE = re.compile(r"(\d{1,9})(?:-(\d{1,9}))?")
_COMMAND_WORD = re.compile(r"([^\s/]*)(.*)", re.S)


def split_command(text: str) -> tuple[str, str]:
    """``x/4xw $esp`` -> (``x``, ``/4xw $esp``); ``p/x 1`` -> (``p``, ``/x 1``)."""
    word, rest = _COMMAND_WORD.match(text.strip()).groups()
    return word, rest if rest.startswith("/") else rest.strip()


def resolve_command(word: str, strict: bool = False) -> str | None:
    """gdb's lookup: an alias, a full name, or a unique prefix."""
    if word in ALIASES:
        return ALIASES[word]
    if word in COMMANDS:
        return word
    if strict:
        return None
    matches = [c for c in COMMANDS if c.startswith(word)] if word else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CommandError(f'Ambiguous command "{word}": {", ".join(matches)}.')
    raise CommandError(f'Undefined command: "{word}".  Try "help".')


MAX_SCRIPT = 1 << 20
MAX_SOURCE = 16 << 20  # a source file `list` reads
_ECHO_ESCAPES = {"a": 7, "b": 8, "e": 27, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_ECHO_TOKEN = re.compile(r"\\([0-7]{1,3}|.?)|[^\\]+", re.S)


def echo_text(text: str) -> str:
    """gdb's echo: C escapes (``\\n``, ``\\t``, octal ``\\303\\251`` as bytes), any
    other character as itself, a backslash at the end dropped; UTF-8 as typed."""
    out = bytearray()
    for m in _ECHO_TOKEN.finditer(text):
        escape = m.group(1)
        if escape is None:
            out += m.group(0).encode()
        elif escape[:1] in tuple("01234567"):
            out.append(int(escape, 8) & 0xFF)
        else:
            out += bytes([_ECHO_ESCAPES[escape]]) if escape in _ECHO_ESCAPES else escape.encode()
    return out.decode(errors="replace")


def read_script(path: str) -> list[str]:
    """The lines of a command file (``-x``, ``source``), or one CommandError."""
    try:
        if not os.path.isfile(path):
            raise CommandError(f"{path}: No such file or directory." if not os.path.exists(path)
                               else f"{path}: not a regular file.")  # fmt: skip
        if os.path.getsize(path) > MAX_SCRIPT:
            raise CommandError(f"{path}: larger than {MAX_SCRIPT} bytes")
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise CommandError(f"{path}: {getattr(err, 'strerror', None) or err}") from None


def terminal_lines(shell: Shell):
    """Lines from a prompt_toolkit prompt: history, editing, completion of
    commands, symbols and $registers; Ctrl-C drops the line, Ctrl-D quits."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter

    words = COMMANDS + list(ALIASES) + [f"${r}" for r in rg.GDB_ORDER]
    words += list(shell.kern.symbols.by_name)
    session = PromptSession(completer=WordCompleter(words, WORD=True), complete_while_typing=False)
    while True:
        try:
            with keys_as_input(sys.stdin.fileno()):
                line = session.prompt(PROMPT)
        except KeyboardInterrupt:
            print("Quit", file=shell.err, flush=True)
        except EOFError:
            print("quit", file=shell.out, flush=True)
            return
        else:
            yield line


@contextmanager
def keys_as_input(fd: int):
    """Ctrl-C and Ctrl-D are keys for the prompt, not the terminal's SIGINT and
    end-of-file, from before the prompt is shown: prompt_toolkit (on a dumb
    terminal) writes the prompt before it switches the terminal to raw mode,
    and a Ctrl-C typed in between was a signal landing anywhere, a Ctrl-D an
    end-of-file the switch turned into a NUL byte."""
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        saved = None
    if saved is not None:
        raw = [*saved[:6], list(saved[6])]
        raw[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
        raw[6][termios.VMIN], raw[6][termios.VTIME] = 1, 0
        termios.tcsetattr(fd, termios.TCSANOW, raw)
    try:
        yield
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def plain_lines(stream, echo_prompt: bool):
    """Lines read from ``stream`` one byte at a time: nothing is read ahead into a
    buffer, so a checkpoint that takes over the session reads what follows."""
    fd = stream.fileno()
    while True:
        if echo_prompt:
            print(PROMPT, end="", flush=True)
        try:
            line = _read_line(fd)
        except KeyboardInterrupt:
            print("Quit", file=sys.stderr, flush=True)
            continue
        if line is None:
            return
        yield line


def _read_line(fd: int) -> str | None:
    data = bytearray()
    while True:
        byte = os.read(fd, 1)
        if not byte:
            return data.decode(errors="replace") if data else None
        if byte == b"\n":
            return data.decode(errors="replace")
        data += byte
