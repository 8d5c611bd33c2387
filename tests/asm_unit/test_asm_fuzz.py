"""Seeded fuzzing (tools/fuzz_asm.py, which `make fuzz` runs for longer; its speed
is `make bench`'s asm_fuzz_case_in_round_trips).

Every generated source must give an Image or an AsmError; where GNU binutils are
installed, every source we accept must give GNU's bytes, every source GNU
refuses must be refused, and a source GNU accepts is refused only by name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from asm_gnu_ref import HAVE_GNU_AS

FUZZ_TOOL = Path(__file__).resolve().parents[2] / "tools" / "fuzz_asm.py"
SEED = 20091202
ROBUST_CASES = 5_000
DIFFERENTIAL_CASES = 1_000


def load_fuzz_tool():
    spec = importlib.util.spec_from_file_location("fuzz_asm", FUZZ_TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_generator_is_deterministic():
    fuzz = load_fuzz_tool()
    lines = fuzz.load_lines()
    assert list(fuzz.cases(50, 3, lines)) == list(fuzz.cases(50, 3, lines))
    assert list(fuzz.cases(50, 3, lines)) != list(fuzz.cases(50, 4, lines))


def _run(cases: int, differential: bool):
    fuzz = load_fuzz_tool()
    outcome = fuzz.run(cases, SEED, differential)
    shown = "\n".join(f"--- {problem}\n{source}" for source, problem in outcome.failures[:10])
    assert not outcome.failures, f"{len(outcome.failures)} of {cases} cases failed:\n{shown}"
    return outcome


def test_fuzz_gives_image_or_asm_error_only():
    assert _run(ROBUST_CASES, differential=False).cases == ROBUST_CASES


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed: no reference to compare")
def test_fuzz_matches_gnu_as():
    outcome = _run(DIFFERENTIAL_CASES, differential=True)
    assert outcome.compared == DIFFERENTIAL_CASES
    # a source GNU as accepts is refused only by name (tools/fuzz_asm.py, explain)
    shown = "\n".join(f"--- {message}\n{source}" for source, message in outcome.unexplained)
    assert not outcome.unexplained, f"refused without a reason:\n{shown}"


def test_fuzz_sees_wrong_bytes():
    """The comparison itself: bytes that differ from GNU's, or bytes for a source GNU
    refuses, are failures; a refusal of ours is not."""
    fuzz = load_fuzz_tool()
    refused = fuzz.GnuAsError("in.S:1: Error: bad")
    assert fuzz._disagree(b"\x90", b"\x91")
    assert fuzz._disagree(b"\x90", refused)
    assert fuzz._disagree(None, b"\x90") is None
    assert fuzz._disagree(b"\x90", b"\x90") is None
