"""kthreadd-emu debug -x FILE --batch, as a user scripts it.  A small fake
engine (booting the machine on `continue`) stands in for debugger/engine.py's
run control, which these commands do not need."""

import pytest

from kthreadd_emu import cli
from kthreadd_emu.commands import debug


class Stop:
    def __init__(self, message):
        self.message, self.python_frame = message, None


class FakeEngine:
    """start(): stopped before boot; cont(): boot, then stopped again; the
    state part of the interface read from the kernel."""

    def __init__(self, kern, on_stop):
        self.kern, self.on_stop = kern, on_stop
        self.selected_cpu, self._task = 0, None
        self.resumed = None

    @property
    def selected_task(self):
        return self.kern.current(self.selected_cpu).pid if self._task is None else self._task

    def select_task(self, pid):
        self._task = pid

    def select_cpu(self, n):
        self.selected_cpu, self._task = n, None

    def registers(self, pid=None):
        from debugger.tasks import find_task, task_registers

        return task_registers(self.kern, find_task(self.kern, self.selected_task))

    def start(self):
        self.on_stop(Stop("stopped before boot"))
        while self.resumed == "cont":
            self.resumed = None
            self.kern.boot(self.kern.profile)
            self.on_stop(Stop("every CPU is idle"))

    def cont(self):
        self.resumed = "cont"


@pytest.fixture
def batch(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(debug, "engine_factory", lambda: FakeEngine)

    def run(*commands, argv=()):
        script = tmp_path / "cmds.gdb"
        script.write_text("set context off\n" + "\n".join(commands) + "\n")
        status = cli.main(["debug", "--cpus", "3", "-x", str(script), "--batch", *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return status, out, err

    return run


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
