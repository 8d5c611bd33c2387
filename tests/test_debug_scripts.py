"""User commands (`define`) and command files (`source`) as gdb runs them: each
line after the last has finished (a resuming one goes back to the machine,
the rest runs at the next stop), the first error ends them, and recursion is
bounded with gdb's words."""

import os
import re

import pytest

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="going back needs fork()")


def test_a_user_command_calling_itself_stops_at_gdbs_depth(debug_process):
    status, out, err = debug_process(
        "define f", "echo a\\n", "f", "f", "f", "end", "f", "echo after\\n", timeout=60
    )
    assert status == 1
    assert err.splitlines() == ["Max user call depth exceeded -- command aborted."]
    assert out.count("a\n") == 1024 and out.endswith("after\n")


def test_a_file_sourcing_itself_stops_at_the_depth_bound(tmp_path, debug_process):
    itself = tmp_path / "self.gdb"
    itself.write_text(f"echo x\\n\nsource {itself}\nsource {itself}\nsource {itself}\n")
    status, out, err = debug_process(f"source {itself}", "echo after\\n", timeout=60)
    assert status == 1
    assert err.splitlines() == [f"{itself}:2: {itself}: sourced more than 16 files deep"]
    assert out.count("x\n") == 16 and out.endswith("after\n")


def test_an_error_ends_the_user_command_and_the_file(tmp_path, batch):
    inner = tmp_path / "inner.gdb"
    inner.write_text("echo one\\n\nfrobnicate\necho never\\n\n")
    status, out, err = batch("define g", "echo two\\n", "print 1 +", "echo never\\n", "end",
                             f"source {inner}", "g", "echo still here\\n")  # fmt: skip
    assert status == 1
    assert err.splitlines() == [
        f'{inner}:2: Undefined command: "frobnicate".  Try "help".',
        "A syntax error in expression, near `'.",
    ]
    assert "never" not in out and out.endswith("one\ntwo\nstill here\n")


def test_a_define_in_a_sourced_file_takes_its_body_from_that_file(tmp_path, batch):
    defs = tmp_path / "defs.gdb"
    defs.write_text("define hello\necho hello $arg0 of $argc\\n\nend\necho defined\\n\n")
    status, out, err = batch(f"source {defs}", "hello world", "echo end\\n")
    assert status == 0, err
    assert out.endswith("defined\nhello world of 1\nend\n")


def test_a_body_runs_each_command_after_the_last_has_finished(tmp_path, batch):
    """stepi / echo / stepi: the echo comes between the two stops, and the
    machine steps twice (it printed both echoes first, then stepped once)."""
    steps = tmp_path / "steps.gdb"
    steps.write_text("stepi\necho in the file\\n\nstepi\ninfo registers eip\n")
    status, out, err = batch("break kernel_thread_helper", "continue",
                             "define s2", "stepi", "echo between\\n", "stepi", "end",
                             "s2", "info registers eip", f"source {steps}")  # fmt: skip
    assert status == 0, err
    tail = out[out.index("Breakpoint 1, ") :].splitlines()[1:]
    kinds = ["stop" if re.match(r"0x[0-9a-f]+ in \w+ \(\)$", line) else line.split()[0]
             for line in tail]  # fmt: skip
    assert kinds == ["stop", "between", "stop", "eip", "stop", "in", "stop", "eip"]
    assert tail[2].startswith("0xc01000ab in ") and "0xc01000ab <" in tail[3]
    assert tail[7].split()[1] == tail[6].split()[0]  # two more steps, where the second ended


@needs_fork
def test_going_back_inside_a_body_or_a_file_keeps_the_rest(tmp_path, debug_process):
    """reverse-stepi hands the session to a checkpoint: the rest of the user
    command and of the file go with it."""
    back = tmp_path / "back.gdb"
    back.write_text("reverse-stepi\necho file goes on\\n\ninfo registers eip\n")
    status, out, err = debug_process(
        "break kernel_thread_helper", "continue", "stepi", "stepi",
        "define back", "reverse-stepi", "echo body goes on\\n", "info registers eip", "end",
        "back", f"source {back}", "echo top\\n",
    )  # fmt: skip
    assert status == 0, err
    assert "body goes on\neip            0xc01000a9" in out
    assert "file goes on\neip            0xc01000a7" in out
    assert out.endswith("top\n")


def test_too_many_commands_from_one_line_is_one_error(batch):
    """Each level calls the next ten times: a million commands, stopped at the
    bound (gdb would run them all)."""
    levels = [("define l0", "echo .", "end")]
    for n in range(1, 7):
        levels.append((f"define l{n}", *[f"l{n - 1}"] * 10, "end"))
    status, out, err = batch(*[line for level in levels for line in level], "l6",
                             "echo still here\\n")  # fmt: skip
    assert status == 1
    assert err.splitlines() == [
        "more than 100000 commands run by one command line (user commands and sourced "
        "files): stopped"
    ]
    assert out.endswith("still here\n")
