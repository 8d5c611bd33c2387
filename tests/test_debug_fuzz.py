"""A seeded slice of tools/fuzz_debug.py (``make fuzz-debug`` runs 1,000): random
and hostile command files for `debug --batch -x`, each ending by itself with
no internal error."""

import importlib.util
import os
import signal
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "fuzz_debug", Path(__file__).resolve().parents[1] / "tools" / "fuzz_debug.py"
)
fuzz_debug = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fuzz_debug)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="each case is a fork")


def test_a_seeded_slice_runs_clean():
    failures, _ = fuzz_debug.run(40, seed=5)
    assert failures == []


def test_a_case_that_goes_wrong_is_caught(tmp_path):
    """The verdicts: each way a session can go wrong is a failure, a clean end is not."""
    end = f"{fuzz_debug.END}\n"
    assert fuzz_debug.verdict(0, end, "") is None
    assert fuzz_debug.verdict(1 << 8, end, 'Undefined command: "x".\n') is None
    assert fuzz_debug.verdict(None, "", "").startswith("hang")
    assert "SIGXCPU" in fuzz_debug.verdict(signal.SIGXCPU, "", "")
    assert fuzz_debug.verdict(2 << 8, end, "") == "exit status 2"
    internal = "kthreadd-emu: debug: internal error: ValueError: x"
    assert fuzz_debug.verdict(2 << 8, end, internal + "\n") == internal
    assert fuzz_debug.verdict(0, "", "") == "ended before its last line"
    (tmp_path / "cmds.gdb").write_text(f"print 6 * 7\necho {fuzz_debug.END}\\n\n")
    why, out, _ = fuzz_debug.run_case(["debug", "-x", "cmds.gdb", "--batch"], tmp_path)
    assert why is None and "$1 = 42" in out
