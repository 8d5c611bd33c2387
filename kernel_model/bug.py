"""BUG(): an inconsistency the kernel's own code finds (lib/bug.c report_bug,
lib/list_debug.c).

The kernel model is Python; when guest code corrupts what it reads (a list
head, ``current_task``, a task's stack pointer) the model fails where the
kernel would hit a BUG() or an oops.  Such a failure in the kernel's code is
reported as the kernel reports a BUG: ``kernel BUG at FILE:LINE!``, then an
"invalid opcode" oops that kills the task, and the machine goes on.  A
failure raised by code outside the kernel model (a tool's probe, a test) is
not the kernel's and is left alone.
"""

import struct
import traceback
from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent
EMU_DIR = MODEL_DIR.parent / "emu"
CUT_HERE = "------------[ cut here ]------------"


class KernelBug(Exception):
    """BUG() or a CONFIG_DEBUG_LIST report, with the lines the kernel prints."""

    def __init__(self, *lines: str):
        super().__init__(lines[-1])
        self.lines = list(lines)


# What a bad pointer or a corrupted structure makes Python code raise.
_MODEL_ERRORS = (KernelBug, KeyError, IndexError, AssertionError, ValueError, struct.error)


def bug_report(err: BaseException) -> list[str] | None:
    """The lines the kernel would print for ``err``, or None if ``err`` did not
    come from the kernel's code."""
    if not isinstance(err, _MODEL_ERRORS):
        return None
    frames = traceback.extract_tb(err.__traceback__)
    if not frames or not _inside(frames[-1].filename, (MODEL_DIR, EMU_DIR)):
        return None
    if isinstance(err, KernelBug):
        return [CUT_HERE, *err.lines]
    site = next(f for f in reversed(frames) if _inside(f.filename, (MODEL_DIR,)))
    where = Path(site.filename).relative_to(MODEL_DIR.parent)
    return [
        CUT_HERE,
        f"kernel BUG at {where}:{site.lineno}!",
        f"kthreadd-emu: {site.name}() failed: {type(err).__name__}: {err}",
    ]


def _inside(filename: str, dirs) -> bool:
    path = Path(filename).resolve()
    return any(path.is_relative_to(d) for d in dirs)
