"""kthreadd-emu debug -x FILE --batch, as a user scripts it: the machine stopped
before boot, `continue` boots it and stops when every CPU is idle."""

import pytest

from kthreadd_emu import cli


def test_registers_segments_and_memory(batch):
    status, out, err = batch("continue", "info registers", "info segments", "x/4xw ret_from_fork",
                             "info symbol kernel_thread_helper+3", "p/x 255")  # fmt: skip
    assert status == 0, err
    assert "cs             0x60                96" in out
    assert "kernel_thread_helper + 3 in section .text" in out
    assert "<ret_from_fork>:\t0x" in out
    assert "$1 = 0xff" in out


def test_tasks_and_task_switch(batch):
    status, out, err = batch("continue", "tasks", "task 2", "p current->comm", "i r eip")
    assert status == 0, err
    assert "kthreadd" in out and "[Switching to task 2 (kthreadd)]" in out
    assert '$1 = "kthreadd"' in out
    assert "<switch_to+" in out


def test_disassemble_and_flavor(batch):
    status, out, _ = batch("disassemble kernel_thread_helper", "set disassembly-flavor intel",
                           "x/1i kernel_thread_helper")  # fmt: skip
    assert status == 0
    assert "Dump of assembler code for function kernel_thread_helper:" in out
    assert "pushl  $0" in out and "push   0" in out


@pytest.mark.parametrize(
    "command, message",
    [
        ("frobnicate", 'Undefined command: "frobnicate".'),
        ("p 1 +", "A syntax error in expression"),
        ("x/4xw 0", "Cannot access memory at address 0x0"),
        ("task 99999", "Invalid thread ID: 99999"),
        ("cpu 7", "cpu 7: the machine has 3 CPUs"),
        ("p $nosuch", "Invalid register `nosuch'"),
        ("source /no/such/file", "No such file or directory"),
    ],
)
def test_bad_input_is_one_line_and_the_session_goes_on(batch, command, message):
    status, out, err = batch(command, "echo still here\\n")
    assert status == 1
    assert err.strip().splitlines() == [err.strip()] and message in err
    assert "still here" in out


def test_define_and_echo(batch):
    status, out, _ = batch("define twice", "p $arg0 * 2", "end", "twice 21")
    assert status == 0 and "$1 = 42" in out


def test_missing_x_file(capsys):
    assert cli.main(["debug", "-x", "/no/such.gdb", "--batch"]) == 1
    assert "No such file or directory" in capsys.readouterr().err


def test_record_start_stop_save(batch, tmp_path):
    """The debugger records what `kthreadd-emu record` records, in its formats."""
    ftrace, perfetto = tmp_path / "boot.txt", tmp_path / "boot.json"
    status, out, err = batch(
        "record start", "continue", "record stop",
        f"record save {ftrace}", f"record save {perfetto} perfetto",
    )  # fmt: skip
    assert status == 0, err
    text = ftrace.read_text()
    assert "sched_process_fork" in text and "sched_switch: task swapper:0 " in text
    import json

    assert json.loads(perfetto.read_text())["traceEvents"]
    status, out, err = batch("record save nowhere.txt", "record frob")
    assert status == 1
    assert err.splitlines() == [
        "usage: record start, then record save FILE [FORMAT]",
        "usage: record start | stop | save FILE [FORMAT]",
    ]


def test_a_soft_lockup_is_a_stop_not_the_end(tmp_path, capsys):
    """A thread that spins its whole budget is the kernel's soft-lockup report and
    a stop: the registers can be read and the session goes on."""
    spin = tmp_path / "spin.S"
    spin.write_text("\t.globl spin\nspin:\tjmp spin\n")
    script = tmp_path / "cmds.gdb"
    script.write_text("set context off\ncontinue\ninfo registers eip\n")
    argv = ["debug", "--cpus", "2", "--load", str(spin), "--run", "kthread spin budget=5000"]
    status = cli.main([*argv, "-x", str(script), "--batch"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "BUG: soft lockup - CPU#" in out and "(spin+0x0)" in out
    assert "<spin>" in out.splitlines()[-1]
