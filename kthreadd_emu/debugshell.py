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
from debugger.engine import DebuggerError, QuitDebugger
from debugger.expr import CExpr, EvalError, ExprError, as_int
from debugger.gdbfmt import FormatError, parse_fmt
from debugger.ptregs import FORMATS as PTREGS_FORMATS
from debugger.tasks import (
    TaskError,
    find_task,
    info_threads,
    python_line,
    task_registers,
    tasks_listing,
)
from debugger.values import Env, format_value
from kernel_model.process_32 import task_pt_regs
from kernel_model.ptrace import pt_regs

PROMPT = "(kdb) "
MAX_SOURCE_DEPTH = 16
MAX_DEFINE_DEPTH = 16
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


class Lines:
    """Where commands come from: the lines of the -x files still to run, then the
    terminal or standard input.  Going back in time (a forked checkpoint takes
    over the session) hands over what is still pending."""

    def __init__(self, pending, more=()):
        self.pending, self.more = deque(pending), iter(more)
        self.waiting = None  # called before waiting for a line (the shell flushes its output)

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pending:
            return self.pending.popleft()
        if self.waiting is not None:
            self.waiting()
        return next(self.more)


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
        self.lines = None  # the line source, set by run()
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
        self.s.failed = True
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
        return (list(self.lines.pending), s.history, s.defines, s.last_resume, s.context_on,
                s.failed)  # fmt: skip

    def restore_ui(self, state) -> None:
        pending, history, defines, last_resume, context_on, failed = state
        self.lines.pending = deque(pending)
        self.s.history, self.s.defines, self.s.last_resume = history, defines, last_resume
        self.s.context_on, self.s.failed = context_on, failed

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
                    if self.execute(line):
                        return True
                return False
            except KeyboardInterrupt:  # Ctrl-C during a command: drop it, go on
                self.complain("Quit")

    def execute(self, line: str, depth: int = 0) -> bool:
        """Run one command line; True if it resumed the machine."""
        text = line.strip()
        if not text:
            if self.s.last_resume is None:
                return False
            text = self.s.last_resume
        if text.startswith("#"):
            return False
        try:
            return self.dispatch(text, depth)
        except CommandError as err:
            self.complain(str(err))
        except (xm.ExamineError, FormatError, rg.RegisterError, TaskError, DebuggerError) as err:
            self.complain(str(err))
        return False

    def dispatch(self, text: str, depth: int) -> bool:
        word, rest = split_command(text)
        if word in self.s.defines:
            return self.run_defined(word, rest, depth)
        name = resolve_command(word)
        if name in RESUMING:
            self.s.last_resume = text
            self._line_step = name in ("step", "next")
            return self.resume(name, rest)
        if name == "define":
            self.define(rest)
            return False
        if name == "quit":
            raise self._quit()
        getattr(self, "cmd_" + name.replace("-", "_"))(rest, depth)
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

    def cmd_break(self, rest, depth, temporary=False):
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
        except (ValueError, KeyError, LookupError) as err:
            raise CommandError(f'Function "{spec.strip()}" not defined. ({err})') from None
        kind = "Temporary breakpoint" if temporary else "Breakpoint"
        self.say(f"{kind} {bp.number} at {bp.location}")

    def cmd_tbreak(self, rest, depth):
        self.cmd_break(rest, depth, temporary=True)

    def cmd_delete(self, rest, depth):
        engine = self.need_engine()
        numbers = rest.split() or [None]
        for n in numbers:
            engine.delete(None if n is None else self.count(n))

    def cmd_enable(self, rest, depth):
        for n in rest.split():
            self.need_engine().enable(self.count(n))

    def cmd_disable(self, rest, depth):
        for n in rest.split():
            self.need_engine().disable(self.count(n))

    def watch(self, rest, kind):
        engine = self.need_engine()
        length = 4
        wp = engine.watch(self.lvalue(rest), length, kind)
        names = {"write": "Hardware watchpoint", "read": "Hardware read watchpoint",
                 "access": "Hardware access (read/write) watchpoint"}  # fmt: skip
        self.say(f"{names[kind]} {getattr(wp, 'number', '')}: {rest}")

    def cmd_watch(self, rest, depth):
        self.watch(rest, "write")

    def cmd_rwatch(self, rest, depth):
        self.watch(rest, "read")

    def cmd_awatch(self, rest, depth):
        self.watch(rest, "access")

    def cmd_backtrace(self, rest, depth):
        frames = self.need_engine().frames(self.pid)
        self.say(*(f"#{i:<2} {frame}" for i, frame in enumerate(frames)))

    # -- state ------------------------------------------------------------------

    def cmd_info(self, rest, depth):
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
            self.info_points()

    def info_points(self):
        points = self.need_engine().breakpoints
        if not points:
            self.say("No breakpoints or watchpoints.")
            return
        self.say("Num     Type           Disp Enb Address    What")
        for bp in points:
            disp = "del " if bp.temporary else "keep"
            enb = "y" if bp.enabled else "n"
            self.say(f"{bp.number:<7} breakpoint     {disp} {enb}   {bp.location}")
            if bp.condition:
                self.say(f"\tstop only if {bp.condition}")
            if bp.hits:
                self.say(f"\tbreakpoint already hit {bp.hits} time{'s' if bp.hits > 1 else ''}")

    def cmd_x(self, rest, depth):
        spec, addr_text = "", rest
        if rest.startswith("/"):
            spec, _, addr_text = rest[1:].partition(" ")
        addr = self.address(addr_text) if addr_text.strip() else None
        pc = self.regs()["eip"]
        self.say(*xm.examine(self.kern, self.dis, self.s.examine, spec, addr, pc))

    def cmd_print(self, rest, depth):
        fmt = None
        if rest.startswith("/"):
            spec, _, rest = rest[1:].partition(" ")
            count, fmt, size = parse_fmt(spec, "xduotca")
            if count is not None or size is not None or fmt is None:
                raise CommandError(f'Undefined output format "{spec}".')
        if not rest.strip():
            raise CommandError("Argument required (expression to compute).")
        value = self.value(rest)
        self.s.history.append(value)
        text = format_value(value, fmt, self.kern.symbols)
        self.say(f"${len(self.s.history)} = {text}")

    def cmd_output(self, rest, depth):
        self.say(format_value(self.value(rest), None, self.kern.symbols))

    def cmd_disassemble(self, rest, depth):
        pc = self.regs()["eip"]
        addr = self.address(rest) if rest.strip() else pc
        self.say(*xm.disassemble(self.kern, self.dis, addr, pc))

    def cmd_tasks(self, rest, depth):
        self.say(*tasks_listing(self.kern, self.pid))

    def cmd_task(self, rest, depth):
        if not rest.strip():
            task = self.task()
            self.say(f"[Current task is {task.pid} ({task.comm.decode(errors='replace')})]")
            return
        pid = self.count(rest) if rest.strip() != "0" else 0
        task = find_task(self.kern, pid)
        if self.engine:
            self.engine.select_task(pid)
        else:
            self._pid = pid
        comm = task.comm.decode(errors="replace")
        self.say(f"[Switching to task {pid} ({comm})]")
        line = python_line(self.kern, task)
        regs = self.regs()
        self.say(f"#0  {regs['eip']:#010x} in {self.kern.symbols.describe(regs['eip'])}"
                 f"  sp {regs['esp']:#010x}" + (f"  [python] {line}" if line else ""))  # fmt: skip

    def cmd_cpu(self, rest, depth):
        ncpus = len(self.kern.machine.cpus)
        if not rest.strip():
            self.say(f"[Current CPU is {self.cpu}]")
            return
        value = self.value(rest)
        if not isinstance(value, int) or not 0 <= value < ncpus:
            raise CommandError(f"cpu {rest.strip()}: the machine has {ncpus} CPUs (0-{ncpus - 1})")
        if self.engine:
            self.engine.select_cpu(value)
        else:
            self._cpu, self._pid = value, None
        task = self.task()
        self.say(
            f"[Switching to CPU {value}, task {task.pid} ({task.comm.decode(errors='replace')})]"
        )

    def cmd_ptregs(self, rest, depth):
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

    def cmd_list(self, rest, depth):
        """The source around where the selected task is (gdb's 10 lines; `list`
        again goes on): the Python line stopped at, or the ``.S`` line EIP was
        assembled from (the machine's line table of each loaded image)."""
        file, line = self.source_position()
        first = self.s.list_next if self.s.list_at == (file, line) else max(line - 5, 1)
        try:
            with open(file, encoding="utf-8") as f:
                source = f.read().splitlines()
        except OSError as err:
            raise CommandError(f"{file}: {err.strerror}") from None
        if first > len(source):
            raise CommandError(f"Line number {first} out of range; {file} has {len(source)} lines.")
        shown = source[first - 1 : first + 9]
        self.say(*(f"{first + i}\t{text}" for i, text in enumerate(shown)))
        self.s.list_at, self.s.list_next = (file, line), first + len(shown)

    def source_position(self) -> tuple[str, int]:
        stop = self.s.stop
        python = getattr(stop, "python", None)
        if python is not None and getattr(stop, "pid", None) == self.pid:
            return python[:2]
        pc = self.regs()["eip"]
        where = self.kern.machine.source_line(pc)
        if where is None:
            raise CommandError(f"No source line for {pc:#x} "
                               f"({self.kern.symbols.describe(pc)}): use disassemble")  # fmt: skip
        return where[:2]

    def cmd_context(self, rest, depth):
        self.show_context()

    def show_context(self) -> dict:
        """Show the context view; returns the registers it showed."""
        regs = self.regs()
        lines = context(self.kern, self.dis, regs, self.s.before, self.cpu, self.task())
        self.say(*style(lines, self.colour))
        return regs

    def cmd_set(self, rest, depth):
        words = rest.split()
        if len(words) == 2 and words[0] == "disassembly-flavor" and words[1] in ("att", "intel"):
            self.dis.flavor = words[1]
        elif len(words) == 2 and words[0] == "context" and words[1] in ("on", "off"):
            self.s.context_on = words[1] == "on"
        elif words and words[0] in ("var", "variable"):
            self.set_var(rest.split(None, 1)[1] if len(words) > 1 else "")
        elif words and words[0] in ("confirm", "pagination", "height", "width"):
            pass  # gdb scripts set these; nothing to do here
        else:
            raise CommandError(f'Undefined set command: "{rest}".  Try "help set".')

    def set_var(self, text: str) -> None:
        """``set var LVALUE = VALUE``: a 32-bit word into memory (a field, ``*ADDR``)."""
        left, eq, right = text.partition("=")
        if not eq or not left.strip() or not right.strip() or right.startswith("="):
            raise CommandError("usage: set var LVALUE = VALUE")
        addr = self.lvalue(left)
        try:
            word = as_int(self.value(right)) & 0xFFFFFFFF
        except EvalError as err:
            raise CommandError(str(err)) from None
        self.need_engine().write_memory(addr, word.to_bytes(4, "little"))

    # -- recording ---------------------------------------------------------------

    def cmd_record(self, rest, depth):
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

    def cmd_echo(self, rest, depth):
        text = rest.encode().decode("unicode_escape", errors="replace") if "\\" in rest else rest
        self.out.write(text)
        self.out.flush()

    def cmd_source(self, rest, depth):
        path = rest.strip()
        if not path:
            raise CommandError("source command requires file name of file to source.")
        if depth >= MAX_SOURCE_DEPTH:
            raise CommandError(f"{path}: sourced more than {MAX_SOURCE_DEPTH} files deep")
        for line in read_script(path):
            if self.execute(line, depth + 1):
                raise CommandError(f"{path}: a resuming command inside a sourced file is not "
                                   "supported; use -x or type it")  # fmt: skip

    def define(self, rest):
        name = rest.strip()
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise CommandError("define: a command name is required")
        if resolve_command(name, strict=True):
            raise CommandError(f"define: {name} is a built-in command")
        body = []
        for line in self.lines:
            if line.strip() == "end":
                self.s.defines[name] = body
                return
            body.append(line)
        raise CommandError(f"define {name}: the input ended before `end'")

    def run_defined(self, name, rest, depth):
        if depth >= MAX_DEFINE_DEPTH:
            raise CommandError(f"{name}: user commands nested more than {MAX_DEFINE_DEPTH} deep")
        args = rest.split()
        resumed = False
        for line in self.s.defines[name]:
            for i, arg in enumerate(args):
                line = line.replace(f"$arg{i}", arg)
            resumed = self.execute(line, depth + 1) or resumed
        return resumed

    def cmd_help(self, rest, depth):
        self.say(*HELP)


HELP = [
    "Run control: run, continue (c), stepi (si) [N], nexti (ni) [N], step (s), next (n),",
    "  finish (fin), until, advance LOC, reverse-stepi (rsi), reverse-nexti, reverse-continue,",
    "  reverse-finish; break (b) LOC [if COND], tbreak, delete, enable, disable,",
    "  watch/rwatch/awatch EXPR; info breakpoints.  An empty line repeats the last of these.",
    "State: info registers (i r) [REG...], info all-registers, info segments, info gdt,",
    "  info symbol ADDR, x/NFU ADDR, print/FMT EXPR (p), output EXPR, disassemble [ADDR],",
    "  backtrace (bt), tasks, info threads, task PID (thread), cpu N, ptregs [PID|ADDR] [FORMAT],",
    "  context.  Expressions: $eax, current->comm, task(2)->thread.sp, *(int *)$esp, locals.",
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
