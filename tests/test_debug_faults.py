"""A guest that goes wrong is reported the same way by a plain run and under the
debugger: a call through NULL is an oops (never a soft lockup at 0), a stack
overrun is "Thread overran stack", and the session goes on after each."""

import json
import re

import pytest

NULL_CALL = """\
#@ test call_through_null
#@ run kthread null_call
#@ expect oops: BUG: unable to handle kernel NULL pointer dereference at (null)
#@ expect oops: EIP is at 0x0
#@ expect exit == SIGKILL

null_call:
\txorl %eax, %eax
\tcall *%eax
\tret
"""
RECURSE = """\
#@ test recursion_returns
#@ run kthread recurse
#@ expect exit == 0

recurse:
\tcall recurse
"""
OVERRUN_LINE = re.compile(
    r"^\s*Thread overran stack, or stack corrupted: the write at c[0-9a-f]+ \(recurse\+0x0\) "
    r"reached STACK_END_MAGIC at c[0-9a-f]+, esp c[0-9a-f]+$",
    re.M,
)


@pytest.fixture
def source(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def debug(cli, tmp_path, *argv, commands=()):
    script = tmp_path / "cmds.gdb"
    script.write_text("set context off\n" + "\n".join(commands) + "\n")
    status, out, err = cli(*argv, "-x", script, "--batch")
    assert "Traceback" not in out + err and "internal error" not in out + err
    return status, out, err


def test_a_call_through_null_is_an_oops_in_a_plain_run(cli, source):
    status, out, _ = cli("asmtest", source("null.S", NULL_CALL))
    assert status == 0, out
    assert "1 passed" in out


def test_walk_with_a_null_thread_function_oopses(cli):
    status, out, _ = cli("walk", "--json", "--fn", "0")
    assert status == 0
    doc = json.loads(out)
    assert doc["log"][0] == "BUG: unable to handle kernel NULL pointer dereference at (null)"
    assert "EIP is at 0x0" in doc["log"] and doc["exit_code"] == 9  # SIGKILL


def test_a_call_through_null_under_debug_is_an_oops_and_the_session_goes_on(cli, tmp_path, source):
    path = source("null.S", NULL_CALL)
    status, out, err = debug(cli, tmp_path, "debug", "--load", path, "--run",
                             "kthread null_call", commands=["continue", "info registers eip",
                                                            "bt", "continue"])  # fmt: skip
    assert status == 0, err
    assert "soft lockup" not in out
    assert "BUG: unable to handle kernel NULL pointer dereference at (null)" in out
    assert "The kernel oopsed at 0x00000000 in ?? ()." in out
    assert re.search(r"^eip\s+0x0\s+0x0$", out, re.M)
    # The return address the call pushed: the caller is in the backtrace.
    assert re.search(r"^#\d+\s+0x[0-9a-f]+ in null_call\+0x4 \(\)$", out, re.M)
    assert out.rstrip().endswith("The machine is idle: every CPU is in cpu_idle "
                                 "(continue waits for work).")  # fmt: skip


def test_a_stack_overrun_under_debug_is_reported_as_the_run_reports_it(cli, tmp_path, source):
    path = source("recurse.S", RECURSE)
    status, out, err = debug(cli, tmp_path, "debug", "--load", path, "--run", "kthread recurse",
                             commands=["continue", "info registers eip"])  # fmt: skip
    assert status == 0, err
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if OVERRUN_LINE.match(line))
    assert re.match(r"The CPU is stopped at 0x[0-9a-f]+ in recurse \(\)\.$", lines[at + 1])
    assert "soft lockup" not in "\n".join(lines[: at + 2])
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <recurse>$", out, re.M)


def test_asmtest_debug_stops_at_the_overrun_its_report_names(cli, tmp_path, source):
    path = source("recurse.S", RECURSE)
    status, out, err = debug(cli, tmp_path, "asmtest", "--debug", path,
                             commands=["info registers eip"])  # fmt: skip
    assert status == 1  # the test failed
    report, session = out.split("asmtest --debug: ", 1)
    assert "unexpected overrun:" in report and OVERRUN_LINE.search(report)
    assert OVERRUN_LINE.search(session) and "soft lockup" not in session
