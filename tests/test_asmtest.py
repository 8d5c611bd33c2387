"""kthreadd-emu asmtest as a user meets it: reports for passing and failing tests,
JUnit XML, malformed files, the limits (budget, oops, stack overrun), isolation
between tests, and the pytest plugin (the examples of docs/asmtest.md run in
tests/docs)."""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kthreadd_emu.asmtest.runner import asmtests_per_s
from kthreadd_emu.cli import main

ROOT = Path(__file__).resolve().parent.parent
ROUTINES = """
fn:	incl %eax
	ret
bad:	ud2
spin:	jmp spin
recurse:
	call recurse
"""


def write(folder: Path, name: str, tests: str, code: str = ROUTINES) -> Path:
    path = folder / name
    path.write_text(tests.strip() + "\n" + code)
    return path


def run_cli(capsys, *argv):
    status = main(["asmtest", *map(str, argv)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def test_pass_and_fail_with_the_values_and_the_last_instructions(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "t.S",
        """
#@ test good
#@ run kthread fn arg=41
#@ at return: eax == 42
#@ test wrong
#@ run kthread fn arg=1
#@ at fn: eax == 5
#@ expect exit == 2
""",
    )
    status, out, _ = run_cli(capsys, "t.S")
    lines = out.splitlines()
    assert status == 1
    assert lines[:4] == [
        "PASS t.S::good",
        "FAIL t.S::wrong",
        "  t.S:6: #@ at fn: eax == 5",
        "    eax = 0x00000001 (1)",
    ]
    assert "  last instructions of the thread:" in lines
    assert re.search(r"CPU\d c[0-9a-f]{7} fn\+0x0 +incl %eax", out)
    assert re.fullmatch(r"1 passed, 1 failed, 0 errors in \d+\.\d\d s", lines[-1])


def test_all_passing_exits_zero_and_quiet_prints_the_summary_only(tmp_path, capsys):
    path = write(tmp_path, "ok.S", "#@ test a\n#@ run bare fn arg=1\n#@ expect exit == 2")
    status, out, _ = run_cli(capsys, "-q", path)
    assert status == 0
    assert out.startswith("1 passed, 0 failed, 0 errors in ")


def test_junit_report(tmp_path, capsys):
    path = write(
        tmp_path,
        "j.S",
        "#@ test a\n#@ run kthread fn\n#@ expect exit == 1\n"
        "#@ test b\n#@ run kthread fn\n#@ expect exit == 3\n",
    )
    report = tmp_path / "out.xml"
    assert run_cli(capsys, path, "--junit", report)[0] == 1
    suite = ET.parse(report).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["a"].find("failure") is None and cases["b"].get("line") == "4"
    failure = cases["b"].find("failure")
    assert failure.get("message") == f"{path}:6: #@ expect exit == 3"
    assert "exit = 0x00000001 (1)" in failure.text


MALFORMED = [
    ("#@ test t\n#@ run kthread fn\n#@ expect exit == 1\nfn:\n\tmovl %eax\n", 5, "movl %eax"),
    ("#@ test t\n#@ run kthread fn\n#@ expect exit == 1\nfn:\n\tcall nosuch\n", 5, "nosuch"),
    ("#@ test t\n#@ run kthread fn\n#@ at fn: eax = 1\n", 3, "cannot parse"),
    ("#@ test t\n#@ run kthread fn\n#@ at fn: eaz == 1\n", 3, "unknown name 'eaz'"),
    ("#@ test t\n#@ run kthread fn\n#@ expect eax == 1\n", 3, "registers are known only"),
    ("#@ test t\n#@ run kthread nofn\n#@ expect exit == 1\n", 2, "unknown routine 'nofn'"),
    ("#@ test t\n#@ run kthread fn\n#@ at nolabel: eax == 1\n", 3, "unknown label 'nolabel'"),
    ("#@ test t\n#@ run kthread fn cpu=9\n#@ expect exit == 1\n", 2, "the machine has 3 CPUs"),
    ("#@ test t\n#@ run kthread fn\n", 1, "checks nothing"),
    ("#@ run kthread fn\n#@ test t\n", 1, "a test line before any"),
]


@pytest.mark.parametrize("source, line, message", MALFORMED)
def test_malformed_file_is_file_line_and_text_and_the_rest_still_run(
    tmp_path, monkeypatch, capsys, source, line, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.S").write_text(source if "\nfn:" in source else source + ROUTINES)
    write(tmp_path, "good.S", "#@ test fine\n#@ run kthread fn\n#@ expect exit == 1")
    status, out, err = run_cli(capsys, "bad.S", "good.S")
    # A test's own error is under its ERROR line; the file's (no test may run) on stderr.
    lines = [text.strip() for text in (out + err).splitlines()]
    at = next(i for i, text in enumerate(lines) if text.startswith(f"bad.S:{line}: "))
    assert message in lines[at] + lines[at + 1]
    assert lines[at + 1] == source.split("\n")[line - 1].strip()
    assert "PASS good.S::fine" in out and status == 1
    assert ("ERROR bad.S::t" in out) == (f"bad.S:{line}: " in out)


def test_budget_reports_the_runaway_loop_and_where_it_spins(tmp_path, capsys):
    path = write(tmp_path, "loop.S", "#@ test loop\n#@ run kthread spin\n#@ expect exit == 0")
    status, out, _ = run_cli(capsys, path, "--budget", "5000")
    assert status == 1
    assert "  unexpected lockup:" in out
    assert re.search(
        r"stuck for 5000 instructions! \[asmtest:\d+\] at c[0-9a-f]+ \(spin\+0x0\)", out
    )
    assert "the thread did not exit" in out
    assert re.search(r"spin\+0x0 +jmp", out)


def test_unexpected_oops_shows_the_kernel_report(tmp_path, capsys):
    path = write(tmp_path, "o.S", "#@ test o\n#@ run kthread bad name=oopser\n#@ expect exit == 0")
    out = run_cli(capsys, path)[1]
    assert "  unexpected oops:" in out
    assert "    invalid opcode: 0000 [#1] SMP" in out
    assert "    EIP is at bad+0x0/0x2" in out
    assert re.search(r"Process oopser \(pid: \d+", out)
    assert "exit = 0x0000000b (11)" in out


def test_stack_overrun_is_caught_at_the_write_in_linux_words(tmp_path, capsys):
    path = write(tmp_path, "r.S", "#@ test deep\n#@ run kthread recurse\n#@ expect exit == 0")
    out = run_cli(capsys, path)[1]
    assert "  unexpected overrun:" in out
    assert re.search(
        r"Thread overran stack, or stack corrupted: the write at c[0-9a-f]+ \(recurse\+0x0\) "
        r"reached STACK_END_MAGIC",
        out,
    )


@pytest.mark.parametrize(
    "expect", ["#@ expect oops: invalid opcode", "#@ expect lockup", "#@ expect overrun"]
)
def test_an_expected_outcome_that_does_not_happen_fails(tmp_path, capsys, expect):
    path = write(tmp_path, "e.S", f"#@ test e\n#@ run kthread fn\n{expect}")
    status, out, _ = run_cli(capsys, path)
    assert status == 1 and f"e.S:3: {expect}\n    but the thread exited cleanly\n" in out


def test_an_oops_with_other_text_fails(tmp_path, capsys):
    path = write(tmp_path, "e.S", "#@ test e\n#@ run kthread bad\n#@ expect oops: NULL pointer")
    out = run_cli(capsys, path)[1]
    assert "  but oops:\n    invalid opcode: 0000 [#1] SMP" in out


def test_a_label_never_reached_fails(tmp_path, capsys):
    path = write(tmp_path, "n.S", "#@ test n\n#@ run kthread bad\n#@ expect oops\n#@ at fn: 1 == 1")
    out = run_cli(capsys, path)[1]
    assert "n.S:4: #@ at fn: 1 == 1\n    never reached fn\n" in out


def test_each_test_starts_from_the_same_machine(tmp_path, capsys):
    """Memory, the kernel log and taint are back to the snapshot for every test."""
    tests = "".join(
        f"#@ test count{n}\n#@ run kthread bump\n#@ expect [counter] == 1\n#@ expect exit == 0\n"
        f"#@ test oops{n}\n#@ run kthread bad\n#@ expect oops: [#1] SMP\n"
        "#@ expect oops: Not tainted\n"
        for n in range(3)
    )
    code = ROUTINES + "bump:\tincl counter\n\txorl %eax, %eax\n\tret\ncounter: .long 0\n"
    status, out, _ = run_cli(capsys, write(tmp_path, "iso.S", tests, code))
    assert status == 0, out


def test_a_bad_pointer_into_python_kernel_code_is_that_tests_oops(tmp_path, capsys):
    """kthread() handed a pointer below the kernel oopses as the kernel would (the
    Python model follows the pointer); the next test still runs on a clean machine."""
    tests = (
        "#@ test broken\n#@ run kthread call_kthread\n#@ expect exit == 0\n"
        "#@ test after\n#@ run kthread fn arg=1\n#@ expect exit == 2\n"
    )
    code = ROUTINES + "call_kthread:\n\tmovl $0x1000, %eax\n\tcall kthread\n\tret\n"
    status, out, _ = run_cli(capsys, write(tmp_path, "m.S", tests, code))
    assert status == 1
    assert re.search(r"FAIL \S+::broken\n  unexpected oops:\n    BUG: unable to handle kernel", out)
    assert "IP: [<c02" in out and "kthread+0x0/0x1" in out
    assert re.search(r"PASS \S+::after", out)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nosuch.S"], "nosuch.S: no such file or folder"),
        (["--budget", "0", "."], "kthreadd-emu: asmtest: --budget must be between 1 and"),
        (["--budget", "lots", "."], "--budget: not a decimal or 0x-hex number: 'lots'"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    status, out, err = run_cli(capsys, *argv)
    assert status == 1 and message in err and len(err.splitlines()) == 1


def test_folders_hold_test_files_and_plain_sources(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "a.S", "#@ test a\n#@ run kthread fn\n#@ expect exit == 1")
    (tmp_path / "sub" / "helper.S").write_text(ROUTINES)
    status, out, _ = run_cli(capsys, "sub")
    assert status == 0 and "PASS sub/a.S::a" in out and "helper" not in out
    status, out, err = run_cli(capsys, "sub/helper.S")
    assert status == 1 and err.startswith("sub/helper.S:1: no tests: add '#@ test NAME' lines")
    assert "0 passed, 0 failed, 1 error in" in out
    (tmp_path / "empty").mkdir()
    status, _, err = run_cli(capsys, "empty")
    assert status == 1 and err == "kthreadd-emu: asmtest: no assembly tests in empty\n"


def test_benchmark_tests_are_real_and_pass():
    """The benchmark's generated tests must pass (it raises otherwise); its speed is
    reported by `make bench`, not judged here."""
    assert asmtests_per_s(20) > 0


# -- the pytest plugin ----------------------------------------------------------


def test_pytest_collects_assembly_tests_from_the_configured_folder(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nasmtest_paths = asm\n")
    (tmp_path / "asm").mkdir()
    write(tmp_path / "asm", "t.S", "#@ test ok\n#@ run kthread fn\n#@ expect exit == 1\n"
          "#@ test wrong\n#@ run kthread fn\n#@ expect exit == 7\n")  # fmt: skip
    write(tmp_path / "asm", "broken.S", "#@ test b\n#@ run kthread fn\n#@ expect exit == 1",
          "fn:\n\tmovl %eax\n")  # fmt: skip
    write(tmp_path, "elsewhere.S", "#@ test not_collected\n#@ run kthread fn\n#@ expect 1 == 2")
    # The plugin comes from the installed entry point; the path only makes the package
    # importable from a folder outside the project.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout
    assert proc.returncode == 1, out
    assert re.search(r"PASSED asm/t\.S::ok", out)
    assert re.search(r"FAILED asm/t\.S::wrong", out)
    assert "t.S:6: #@ expect exit == 7" in out and "exit = 0x00000001 (1)" in out
    assert re.search(r"FAILED asm/broken\.S::\(file\)", out)
    assert "broken.S:5: " in out and "    movl %eax" in out
    assert "not_collected" not in out
