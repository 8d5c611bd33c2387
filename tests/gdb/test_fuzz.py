"""A seeded slice of tools/fuzz_gdb.py (``make fuzz-gdb`` runs 20,000)."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "fuzz_gdb", Path(__file__).resolve().parents[2] / "tools" / "fuzz_gdb.py"
)
fuzz_gdb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fuzz_gdb)


def test_fuzz_slice():
    report = fuzz_gdb.run(1500, seed=11)
    assert report.cases == 1500
    # Every hostile monitor command went as it is, on both machines (booted and
    # stopped before boot), and breakpoints were deleted behind gdb's back.
    hostile = {"define foo", "source /nonexistent/commands.gdb", "quit", "delete", "cpu 1",
               "x/99999999999999999999xw 0", "delete 99999999999999999999"}  # fmt: skip
    assert hostile <= set(fuzz_gdb.MONITOR_SEEDS)
    assert report.monitor_sent == {command: 2 for command in fuzz_gdb.MONITOR_SEEDS}
    assert report.scenes >= 100
