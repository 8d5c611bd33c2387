"""kthreadd-emu ptregs: the pt_regs frame at the top of a task's stack on the
booted machine, as __show_regs, as the crash utility's struct layout, as JSON."""

import json

from kthreadd_emu.cli import main


def run(capsys, *args):
    assert main(["ptregs", "--cpus", "2", *args]) == 0
    return capsys.readouterr().out


def test_show_regs_format_for_kthreadd(capsys):
    lines = run(capsys, "--pid", "2").splitlines()
    assert lines[0] == "Pid: 2, comm: kthreadd Not tainted (2.6.32 #1) kthreadd-emu"
    assert lines[1].startswith("EIP: 0060:[<c01") and lines[1].endswith("EFLAGS: 00000286 CPU: 0")
    assert lines[2].startswith("EIP is at kernel_thread_helper+0x0/")
    # rest_init's kernel_thread(kthreadd, NULL, ...): bx = kthreadd, dx = NULL.
    assert lines[3].startswith("EAX: 00000000 EBX: c02") and lines[3].endswith("EDX: 00000000")
    assert lines[5] == " DS: 007b ES: 007b FS: 00d8 GS: 00e0 SS: 0068"


def test_struct_format_has_offsets_of_all_17_fields(capsys):
    lines = run(capsys, "--pid", "3", "--format", "struct").splitlines()
    fields = [line for line in lines if line.startswith("  [")]
    assert len(fields) == 17
    assert fields[0].startswith("  [0x0] unsigned long bx = 0xc02")  # kthread's thunk
    assert fields[6] == "  [0x18] unsigned long ax = 0x0;"
    assert fields[11] == "  [0x2c] unsigned long orig_ax = 0xffffffff;"
    assert fields[14] == "  [0x38] unsigned long flags = 0x286;"
    assert lines[-1] == "SIZE: 0x44"


def test_json_format(capsys):
    doc = json.loads(run(capsys, "--pid", "1", "--format", "json"))
    assert doc["pid"] == 1 and doc["comm"] == "init" and doc["pt_regs"]["flags"] == 0x286
    assert doc["addr"] & 0x1FFF == 0x1FB4
