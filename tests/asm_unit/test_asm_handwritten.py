"""Hand-written files in the style of xv6's swtch.S and trapasm.S, musl's i386
string and setjmp routines and the kernel's arch/x86/lib/*_32.S after cpp
(tests/asm_unit/handwritten/, written for this project): each assembles to the
image GNU as + ld give, and those with `#@ run bare` tests pass on the machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from asm_gnu_ref import HAVE_GNU_AS, gnu_image

from asm.assembler import assemble_file

HERE = Path(__file__).resolve().parent / "handwritten"
FILES = sorted(HERE.glob("*.S"))
ORIGIN = 0xC0100000


def test_there_are_files_and_some_run():
    assert len(FILES) >= 5
    assert sum("#@ run bare" in path.read_text() for path in FILES) >= 4


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_handwritten_file_matches_gnu_as(path):
    assert assemble_file(path, ORIGIN).code == gnu_image(path.read_text(), ORIGIN)


def test_handwritten_routines_run_on_the_machine():
    done = subprocess.run(
        [sys.executable, "-m", "kthreadd_emu.cli", "asmtest", str(HERE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed, 0 failed, 0 errors" in done.stdout
