"""Bad thread functions: a Linux-style oops, only that task dies, the machine
goes on; a runaway loop hits the instruction budget; no traceback."""

import json

import pytest

from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD, SIGKILL, SIGSEGV
from kernel_model.exit import do_wait
from kernel_model.process_32 import kernel_thread
from kthreadd_emu.cli import main

FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD


@pytest.mark.parametrize(
    "fn, arg, first_line, signal",
    [
        ("0x1000", "0", "BUG: unable to handle kernel paging request at 00001000", SIGKILL),
        (
            "bad_pointer",
            "0",
            "BUG: unable to handle kernel NULL pointer dereference at (null)",
            SIGKILL,
        ),
        ("invalid_op", "0", "invalid opcode: 0000 [#1] SMP", SIGSEGV),
        (
            "smash_stack",
            "0xdead0000",
            "BUG: unable to handle kernel paging request at dead0000",
            SIGKILL,
        ),
        # kthread_should_stop() in a thread that is no kthread: Python kernel code
        # follows current->vfork_done (NULL) and oopses as the kernel would.
        ("stoppable", "0", "BUG: unable to handle kernel paging request at fffffffc", SIGKILL),
    ],
)
def test_fault_gives_oops_and_kills_only_the_thread(capsys, fn, arg, first_line, signal):
    assert main(["walk", "--json", "--fn", fn, "--arg", arg]) == 0
    doc = json.loads(capsys.readouterr().out)
    log = doc["log"]
    assert log[0] == first_line
    assert any(line.startswith("EIP: 0060:[<") for line in log)
    assert " DS: 007b ES: 007b FS: 00d8 GS: 00e0 SS: 0068" in log
    assert "Stack:" in log and "Call Trace:" in log
    assert log[-1].startswith("---[ end trace")
    # oops_end(): the thread exits with the signal as its code; its parent reaps it.
    assert doc["exit_code"] == signal


def test_machine_goes_on_after_an_oops(demo, boot):
    kern, image = demo
    sym = image.symbols

    def main_(k, out):
        bad = kernel_thread(k, sym["invalid_op"], 0, FLAGS)
        good = kernel_thread(k, sym["answer"], 5, FLAGS)
        out["bad"] = yield from do_wait(k, bad)
        out["good"] = yield from do_wait(k, good)
        again = kernel_thread(k, sym["answer"], 6, FLAGS)
        out["again"] = yield from do_wait(k, again)

    out = boot(kern, main_)
    assert out["bad"][1] == SIGSEGV
    assert out["good"][1] == 10 and out["again"][1] == 12
    assert kern.tainted and kern.mm.stacks.in_use == 0


def test_oops_after_taint_says_tainted(demo, boot):
    kern, image = demo

    def main_(k, out):
        for _ in range(2):
            yield from do_wait(k, kernel_thread(k, image.symbols["invalid_op"], 0, FLAGS))

    boot(kern, main_)
    pid_lines = [line for line in kern.log if line.startswith("Pid: ")]
    assert "Not tainted" in pid_lines[0] and "Tainted: G      D" in pid_lines[1]
    assert "invalid opcode: 0000 [#2] SMP" in kern.log


def test_runaway_loop_hits_the_budget(capsys):
    assert main(["walk", "--fn", "spin", "--budget", "50000"]) == 1
    err = capsys.readouterr().err
    assert "soft lockup - CPU#0 stuck for 50000 instructions! [swapper:1] at" in err
    assert "(spin+0x0)" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["walk", "--fn", "nosuch"], "unknown thread function 'nosuch'"),
        (["walk", "--arg", "12x"], "not a decimal or 0x-hex number: '12x'"),
        (["ptregs", "--pid", "99"], "no task with pid 99"),
    ],
)
def test_bad_arguments_get_one_line(capsys, argv, message):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_thread_that_only_ever_yields_hits_the_event_cap(demo, tmp_path):
    """Each stop is short, so the instruction budget never fires; stops are bounded too."""
    from kernel_model.kernel import SoftLockup
    from kthreadd_emu.scenario import run_main

    kern, _ = demo
    src = tmp_path / "yield.S"
    src.write_text("\t.globl forever\nforever:\n\tcall schedule\n\tjmp forever\n")
    fn = kern.load_asm(src).symbols["forever"]

    def main(k, out):
        yield from do_wait(k, kernel_thread(k, fn, 0, FLAGS))

    with pytest.raises(SoftLockup, match="did not settle within 500 events"):
        run_main(kern, main, max_events=500)
