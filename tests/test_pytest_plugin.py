"""The pytest plugin in a user's own folder, outside this repository: `pytest`
finds the assembly tests, `pytest first.S` runs that file, a file that cannot
be read is one failing item, and the short summary names the failed expectation."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST = """\
#@ test ok
#@ run kthread fn
#@ expect exit == 1
#@ test wrong
#@ run kthread fn
#@ expect exit == 7
fn:	incl %eax
	ret
"""


def pytest_in(folder: Path, *args: str) -> str:
    """`pytest -rA ARGS` run by a user in ``folder`` (no ini file: a plain folder)."""
    # The plugin comes from the installed entry point; the path only makes the package
    # importable however this suite's Python was set up.
    env = {
        **os.environ,
        "COLUMNS": "200",  # the summary lines whole
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # tests failed; not 2 (interrupted)
    return proc.stdout


def summary(out: str) -> list[str]:
    return out[out.index("short test summary info") :].splitlines()[1:-1]


def test_a_users_folder_collects_its_test_files_and_survives_broken_ones(tmp_path):
    (tmp_path / "first.S").write_text(FIRST)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "second.S").write_text(FIRST)
    (tmp_path / "plain.S").write_text("helper:\tret\n")  # no #@ lines: not a test file
    (tmp_path / "sub" / "image.S").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    (tmp_path / "sub" / "latin1.S").write_bytes(b"#@ test t\n# caf\xe9\n")
    out = pytest_in(tmp_path)
    assert sorted(summary(out)) == [
        "FAILED first.S::wrong - first.S:6: #@ expect exit == 7: exit = 0x00000001 (1)",
        "FAILED sub/image.S::(file) - sub/image.S:1: not UTF-8 text (byte 0)",
        "FAILED sub/latin1.S::(file) - sub/latin1.S:2: not UTF-8 text (byte 15)",
        "FAILED sub/second.S::wrong - sub/second.S:6: #@ expect exit == 7: exit = 0x00000001 (1)",
        "PASSED first.S::ok",
        "PASSED sub/second.S::ok",
    ]
    assert "plain" not in out and re.search(r"4 failed, 2 passed in ", out)


def test_a_file_named_on_the_command_line_is_collected(tmp_path):
    """Named files are collected even where asmtest_paths points elsewhere."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nasmtest_paths = elsewhere\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "first.S").write_text(FIRST)
    (tmp_path / "other.S").write_text(FIRST)
    out = pytest_in(tmp_path, "first.S")
    assert summary(out) == [
        "PASSED first.S::ok",
        "FAILED first.S::wrong - first.S:6: #@ expect exit == 7: exit = 0x00000001 (1)",
    ]
