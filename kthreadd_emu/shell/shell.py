"""The debugger's shell: what it remembers, the loop that reads lines (a
prompt_toolkit prompt on a terminal, plain lines otherwise, ``-x`` files first),
and one line's dispatch to the command the registry names.  Every mistake is
one line on stderr after which the session goes on; ``--batch`` remembers that
something failed for the exit status."""

import signal
import sys
import threading
from collections import deque
from dataclasses import dataclass, field

from debugger import examine as xm
from debugger.context import context, style, use_colour
from debugger.engine import QuitDebugger
from debugger.expr import CExpr, EvalError, ExprError, as_int
from debugger.tasks import TaskError, find_task, task_registers
from debugger.values import Env
from kthreadd_emu.shell.errors import SHELL_ERRORS, CommandError, Quit
from kthreadd_emu.shell.registry import COMMANDS, Command, split_command
from kthreadd_emu.shell.script import Frame, Lines

PROMPT = "(kdb) "
MAX_USER_DEPTH = 1024  # user commands calling user commands: gdb's max-user-call-depth
MAX_SCRIPT_COMMANDS = 100_000  # commands one typed line may run through user commands and files


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
        self.apply_depth = 0  # thread apply nesting
        self.no_resume = None  # why a command may not resume the machine now (thread apply)
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

    def select_task(self, pid: int) -> None:
        if self.engine:
            self.engine.select_task(pid)
        else:
            self._pid = pid

    def select_cpu(self, index: int) -> None:
        if self.engine:
            self.engine.select_cpu(index)
        else:
            self._cpu, self._pid = index, None

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

    def count(self, text: str) -> int:
        value = self.value(text)
        if not isinstance(value, int) or value < 1:
            raise CommandError(f"{text}: a count must be a positive number")
        return value

    def number(self, text: str) -> int:
        try:
            return as_int(self.value(text))
        except EvalError as err:
            raise CommandError(str(err)) from None

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

    def show_context(self) -> dict:
        """Show the context view; returns the registers it showed."""
        regs = self.regs()
        lines = context(self.kern, self.dis, regs, self.s.before, self.cpu, self.task())
        self.say(*style(lines, self.colour))
        return regs

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
            raise self.quit_exception()
        self._running = True

    def quit_exception(self) -> Exception:
        """What ``quit`` (or the end of the input) raises to end the session."""
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
        cmd = COMMANDS.resolve(word)
        if cmd.resumes:
            return self.resume(cmd, rest, text)
        cmd.run(self, rest)
        return False

    def run_defined(self, name, rest, frame):
        """A user command: its body runs next, line by line (gdb's execute_user_command)."""
        if sum(f.kind == "define" for f in self.lines.frames) >= MAX_USER_DEPTH:
            raise CommandError("Max user call depth exceeded -- command aborted.")
        called_at = frame.where() if frame is not None else None
        self.lines.frames.append(Frame("define", name, self.s.defines[name], tuple(rest.split()),
                                       called_at))  # fmt: skip

    # -- run control (the engine's interface) ---------------------------------

    def need_engine(self):
        if self.engine is None:
            raise CommandError(
                "The program is not being run: run control needs debugger/engine.py's Debugger"
            )
        return self.engine

    def resume(self, cmd: Command, rest: str, text: str) -> bool:
        """The one place the shell resumes the machine: the engine's method that
        ``cmd`` registered (``resumes``), with the arguments its ``run`` returns."""
        if self.no_resume:
            raise CommandError(self.no_resume)
        self.s.last_resume = text
        self._line_step = cmd.by_line
        method = getattr(self.need_engine(), cmd.resumes)
        method(*cmd.run(self, rest))
        return True
