"""A seeded slice of tools/fuzz_gdb.py (``make fuzz-gdb`` runs 10,000+)."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "fuzz_gdb", Path(__file__).resolve().parents[2] / "tools" / "fuzz_gdb.py"
)
fuzz_gdb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fuzz_gdb)


def test_fuzz_slice():
    assert fuzz_gdb.run(1500, seed=11) == 1500
