"""Errors a user can cause, and the one place that turns them into one line."""

import os
import sys

from asm.assembler import AsmError
from emu.machine import MachineError
from kernel_model.kernel import SoftLockup
from kernel_model.kthread import KthreadError
from kernel_model.main import ProfileError


class UsageError(Exception):
    """Bad arguments that argparse cannot see (an unknown symbol, a bad pid)."""


def parse_int(text: str, what: str = "") -> int:
    """A decimal or 0x-hex number, as the CLI accepts them (``what`` names the option)."""
    try:
        return int(text, 0)
    except ValueError:
        prefix = f"{what}: " if what else ""
        raise UsageError(f"{prefix}not a decimal or 0x-hex number: {text!r}") from None


def report(command, args) -> int:
    """Run ``command(args)``; expected errors become one line on stderr."""
    try:
        return command(args)
    except AsmError as err:
        print(err, file=sys.stderr)
    except SoftLockup as err:
        print(f"kthreadd-emu: {err}", file=sys.stderr)
        print("kthreadd-emu: instruction budget exhausted", file=sys.stderr)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except (UsageError, MachineError, ProfileError, KthreadError, OSError) as err:
        print(f"kthreadd-emu: {err}", file=sys.stderr)
    except Exception as err:  # a bug: still one line, with a way to see it all
        if os.environ.get("KTHREADD_EMU_DEBUG"):
            raise
        print(f"kthreadd-emu: internal error: {type(err).__name__}: {err} "
              "(set KTHREADD_EMU_DEBUG=1 for the traceback)", file=sys.stderr)  # fmt: skip
        return 2
    return 1
