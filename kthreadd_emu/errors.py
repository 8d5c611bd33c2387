"""Errors a user can cause, the limits of what the commands accept, and the one
place that turns errors into one line: ``kthreadd-emu: COMMAND: message``
(assembler errors keep their ``file:line: message`` and the source line; a C
compiler's errors are its own messages)."""

import os
import stat
import sys

from asm.assembler import AsmError, read_source
from emu.machine import MAX_CPUS, MachineError
from kernel_model.cbuild import CompileError, NoCompiler
from kernel_model.kernel_errors import KernelPanic, SoftLockup
from kernel_model.kthread import KthreadError
from kernel_model.main import ProfileError
from kernel_model.pid import PID_MAX_DEFAULT

PROG = "kthreadd-emu"
# Instructions a CPU may run without a stop: 100 million takes a runaway thread
# about a minute under `walk`'s tracing, so every run stays bounded.
MAX_BUDGET = 100_000_000
# What the commands take: the kernel's int or a 32-bit word, a 32-bit address.
INT_MIN, WORD_MAX = -(1 << 31), (1 << 32) - 1
CPUS = (1, MAX_CPUS)
SEEDS = (0, WORD_MAX)
PIDS = (1, PID_MAX_DEFAULT - 1)
SHOWN = 40  # characters of a bad value a message repeats


class UsageError(Exception):
    """Bad arguments that argparse cannot see (an unknown symbol, a bad pid)."""


def shown(text: str) -> str:
    """``text`` quoted for a message, cut to SHOWN characters."""
    return repr(text if len(text) <= SHOWN else text[:SHOWN] + "...")


def parse_int(text: str, what: str = "", lo: int | None = None, hi: int | None = None) -> int:
    """A decimal or 0x-hex number, as the CLI accepts them (``what`` names the option),
    refused outside ``lo``..``hi``."""
    prefix = f"{what}: " if what else ""
    try:
        value = int(text, 0)
    except ValueError:
        raise UsageError(f"{prefix}not a decimal or 0x-hex number: {shown(text)}") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise UsageError(f"{what or 'the value'} must be between {lo} and {hi}, not {text}")
    return value


def read_file(path, name: str | None = None) -> str:
    """The text of a ``.S`` file, through the assembler's one reader (regular UTF-8
    files of bounded size); errors name it ``name`` (default: the path as given).
    A FIFO is refused before it is opened: opening one would wait for a writer."""
    name = os.fspath(path) if name is None else name
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # read_source reports it
    if mode is not None and not stat.S_ISREG(mode):
        raise AsmError(name, 0, "", "not a regular file")
    try:
        return read_source(path)
    except AsmError as err:
        raise AsmError(name, err.line, err.text, err.message) from None


def describe(err: BaseException) -> str:
    """One line: OSError's file name and strerror, else the message's first line."""
    if isinstance(err, OSError) and err.strerror:
        return f"{err.filename}: {err.strerror}" if err.filename else err.strerror
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def complain(command: str | None, message: str) -> None:
    """``kthreadd-emu: COMMAND: message`` on stderr."""
    where = f"{PROG}: {command}: " if command else f"{PROG}: "
    print(where + message, file=sys.stderr)


def report(name: str, command, args) -> int:
    """Run ``command(args)``; expected errors become one line on stderr (exit 1),
    anything else too (exit 2), with a way to see its traceback."""
    try:
        return command(args)
    except AsmError as err:
        if err.line:
            print(err, file=sys.stderr)  # file:line: message, and the source line
        else:
            complain(name, str(err))  # the file itself: not found, not text, too large
    except CompileError as err:
        print(err, file=sys.stderr)  # the compiler's own messages, file:line first
    except BrokenPipeError:
        # The reader went away (`| head`): say nothing more, not even at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a command killed by SIGPIPE
    except KeyboardInterrupt:
        return 130
    except (
        UsageError,
        NoCompiler,
        MachineError,
        ProfileError,
        KthreadError,
        SoftLockup,
        KernelPanic,
        OSError,
    ) as err:
        complain(name, describe(err))
    except Exception as err:  # a bug: still one line, with a way to see it all
        if os.environ.get("KTHREADD_EMU_DEBUG"):
            raise
        complain(name, f"internal error: {type(err).__name__}: {describe(err)[:200]} "
                       "(set KTHREADD_EMU_DEBUG=1 for the traceback)")  # fmt: skip
        return 2
    return 1
