"""Seeded fuzzing: random and mutated sources give an Image or an AsmError, nothing else.

The generator lives in tools/fuzz_asm.py (which `make fuzz` runs for longer); this
is the same generator with a fixed seed, sized to run in the suite.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

FUZZ_TOOL = Path(__file__).resolve().parents[2] / "tools" / "fuzz_asm.py"
CASES = 10_000
SEED = 20091202
BUDGET_SECONDS = 20.0


def load_fuzz_tool():
    spec = importlib.util.spec_from_file_location("fuzz_asm", FUZZ_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_is_deterministic():
    fuzz = load_fuzz_tool()
    lines = fuzz.load_lines()
    assert list(fuzz.cases(50, 3, lines)) == list(fuzz.cases(50, 3, lines))
    assert list(fuzz.cases(50, 3, lines)) != list(fuzz.cases(50, 4, lines))


def test_fuzz_gives_image_or_asm_error_only():
    fuzz = load_fuzz_tool()
    started = time.perf_counter()
    failures = fuzz.run(CASES, SEED)
    seconds = time.perf_counter() - started
    shown = "\n".join(f"--- {problem}\n{source}" for source, problem in failures[:10])
    assert not failures, f"{len(failures)} of {CASES} cases failed:\n{shown}"
    assert seconds < BUDGET_SECONDS, f"{CASES} cases took {seconds:.1f} s"
