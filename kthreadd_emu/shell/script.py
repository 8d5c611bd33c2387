"""Where the shell's lines come from: the user commands and sourced files being
run, the -x files, then the terminal or standard input."""

import os
import re
from collections import deque
from dataclasses import dataclass

from kthreadd_emu.shell.errors import CommandError

MAX_SCRIPT = 1 << 20  # bytes of a command file


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
