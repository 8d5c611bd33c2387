"""How the shell's commands fail: one line, after which the session goes on."""

from debugger import examine as xm
from debugger import registers as rg
from debugger.engine import DebuggerError
from debugger.gdbfmt import FormatError
from debugger.tasks import TaskError


class CommandError(Exception):
    """A command that failed: its one line."""


class Quit(Exception):
    """The user quit (or the batch ended)."""


# What a command may raise for a mistake of the user's: each is one line.
SHELL_ERRORS = (
    CommandError, xm.ExamineError, FormatError, rg.RegisterError, TaskError, DebuggerError
)  # fmt: skip
