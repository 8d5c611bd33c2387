"""kthreadd-emu record --load FILE.S --run LINE: the events of one assembly test's run."""

import pytest

from kthreadd_emu.cli import main

SOURCE = """\
	.globl echo
echo:
	movl %eax, %ecx
	ret
bad:	ud2
"""


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "echo.S"
    path.write_text(SOURCE)
    return path


def record(capsys, *argv):
    code = main(["record", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_kthread_run_line_is_recorded(source, tmp_path, capsys):
    out_file = tmp_path / "run.txt"
    code, out, err = record(
        capsys, "--load", str(source), "--run", "kthread echo arg=42", "-o", str(out_file)
    )
    assert code == 0, err
    assert "of the run (exit code 42)" in out
    text = out_file.read_text()
    assert "kthread_create: create=" in text and "threadfn=echo data=0x2a" in text
    assert "kthreadd_dequeue: " in text
    forks = [line for line in text.splitlines() if ": sched_process_fork: " in line]
    assert any("parent_comm=kthreadd" in line for line in forks)
    assert ": sched_process_exit: comm=asmtest" in text
    assert "sched_process_fork: parent_comm=swapper parent_pid=0" in text  # not the boot:
    assert "migration_thread" not in text  # the boot's requests are not in it


def test_an_oops_is_an_event(source, tmp_path, capsys):
    out_file = tmp_path / "run.txt"
    code, out, _ = record(
        capsys, "--load", str(source), "--run", "kthread bad", "-o", str(out_file)
    )
    assert code == 0 and "oopsed" in out
    oops = [line for line in out_file.read_text().splitlines() if ": oops: " in line]
    assert len(oops) == 1 and "ip=bad+0x0/0x2 kind=invalid_opcode" in oops[0]


@pytest.mark.parametrize(
    "run_line, message",
    [
        ("kthread nosuch", "unknown routine 'nosuch'"),
        ("fly echo", "expected 'run MODE ROUTINE"),
    ],
)
def test_a_bad_run_line_is_one_line(source, tmp_path, capsys, run_line, message):
    out_file = tmp_path / "run.txt"
    code, out, err = record(capsys, "--load", str(source), "--run", run_line, "-o", str(out_file))
    assert code == 1 and out == ""
    assert err.startswith("kthreadd-emu: record: --run: ") and message in err
    assert len(err.splitlines()) == 1 and not out_file.exists()


def test_load_needs_run(source, tmp_path, capsys):
    code, _, err = record(capsys, "--load", str(source), "-o", str(tmp_path / "x.txt"))
    assert code == 1 and err == "kthreadd-emu: record: --load FILE.S and --run LINE go together\n"
