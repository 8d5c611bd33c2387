"""Watching a kernel thread being born (kthreadd-emu walk): the child executes
ret_from_fork ... iret ... kernel_thread_helper on the emulated CPU, with the
register values Linux 2.6.32 i386 gives it."""

import json

import pytest

from kernel_model.consts import X86_EFLAGS_IF
from kthreadd_emu.cli import main

PT_REGS_FIELDS = ["bx", "cx", "dx", "si", "di", "bp", "ax", "ds", "es", "fs", "gs",
                  "orig_ax", "ip", "cs", "flags", "sp", "ss"]  # fmt: skip


def walk_json(capsys, *args):
    assert main(["walk", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def step_at(doc, symbol):
    return next(s for s in doc["steps"] if s["symbol"] == symbol)


def test_first_instruction_is_ret_from_fork_on_thread_sp(capsys):
    doc = walk_json(capsys)
    task, first = doc["task"], doc["steps"][0]
    assert first["symbol"] == "ret_from_fork+0x0"
    assert first["regs"]["eip"] == task["thread_ip"]
    assert first["regs"]["esp"] == task["thread_sp"] == task["stack"] + 0x1FB4


def test_entry_path_is_executed_instruction_by_instruction(capsys):
    doc = walk_json(capsys)
    insns = [s["insn"] for s in doc["steps"]]
    names = [s["symbol"].split("+")[0] for s in doc["steps"]]
    assert insns[:2] == ["pushl %eax", f"calll {doc['steps'][2]['addr']:#x} <schedule_tail>"]
    assert insns[2] == "[python] schedule_tail"
    # RESTORE_REGS 4 then iret, then the helper, the thread function, do_exit.
    i = insns.index("iretl")
    assert insns[i - 12 : i] == [
        "popl %ebx", "popl %ecx", "popl %edx", "popl %esi", "popl %edi", "popl %ebp",
        "popl %eax", "popl %ds", "popl %es", "popl %fs", "popl %gs", "addl $4, %esp",
    ]  # fmt: skip
    assert names[i + 1] == "kernel_thread_helper" and "answer" in names
    assert insns[-1] == "[python] do_exit"
    assert names.index("syscall_exit") < names.index("restore_all") < i


def test_registers_at_kernel_thread_helper(capsys):
    doc = walk_json(capsys, "--arg", "0x1234")
    regs, stack = step_at(doc, "kernel_thread_helper+0x0")["regs"], doc["task"]["stack"]
    assert regs["eip"] == doc["pt_regs"]["ip"]
    assert (regs["cs"], regs["eflags"], regs["ss"]) == (0x60, 0x286, 0x68)
    assert regs["esp"] == stack + 0x1FF0
    assert (regs["eax"], regs["ebx"], regs["edx"]) == (0, doc["fn"], 0x1234)
    assert (regs["ds"], regs["es"], regs["fs"], regs["gs"]) == (0x7B, 0x7B, 0xD8, 0xE0)


def test_registers_at_thread_function(capsys):
    doc = walk_json(capsys, "--arg", "77")
    regs = step_at(doc, "answer+0x0")["regs"]
    assert regs["eax"] == regs["edx"] == 77
    assert regs["esp"] == doc["task"]["stack"] + 0x1FE4


def test_child_pt_regs_copy_and_exit_code(capsys):
    doc = walk_json(capsys, "--arg", "21")
    regs = doc["pt_regs"]
    assert list(regs) == PT_REGS_FIELDS
    assert regs["ax"] == 0 and regs["bx"] == doc["fn"] and regs["dx"] == 21
    assert (regs["ds"], regs["es"], regs["fs"], regs["gs"]) == (0x7B, 0x7B, 0xD8, 0xE0)
    assert (regs["orig_ax"], regs["cs"], regs["flags"]) == (0xFFFFFFFF, 0x60, 0x286)
    assert regs["sp"] == regs["ss"] == 0
    assert doc["exit_code"] == 42  # answer returns eax + [esp+4] = 2 * arg
    assert doc["task"]["pid"] == 1


def test_text_output_shows_show_regs_and_steps(capsys):
    assert main(["walk"]) == 0
    out = capsys.readouterr().out
    assert "EIP: 0060:[<" in out and "EFLAGS: 00000286 CPU: 0" in out
    assert " DS: 007b ES: 007b FS: 00d8 GS: 00e0 SS: 0068" in out
    assert "EBX: c01" in out and "EDX: 00000015" in out
    assert "ret_from_fork+0x0" in out and "[python] do_exit" in out
    assert out.rstrip().endswith("exit code: 42 (0x2a)")


def test_intel_syntax_on_request(capsys):
    doc = walk_json(capsys, "--syntax", "intel")
    insns = [s["insn"] for s in doc["steps"]]
    assert "push eax" in insns and "iretd" in insns


def test_walk_via_kthread_create_goes_through_kthreadd(capsys):
    doc = walk_json(capsys, "--via", "kthread_create", "--arg", "5")
    events = doc["events"]
    assert "kthread_create: request at" in events[0] and "[caller pid" in events[0]
    assert events[1].startswith("[kthreadd pid 2 ") and "create_kthread" in events[1]
    assert "do_fork: pid" in events[2]
    insns = [s["insn"] for s in doc["steps"]]
    assert doc["steps"][0]["symbol"] == "ret_from_fork+0x0"
    assert "[python] kthread" in insns and "iretl" in insns
    # kthread() calls threadfn(data) with data in eax only: answer gives 5 + [esp+4].
    assert any(s["symbol"] == "answer+0x0" and s["regs"]["eax"] == 5 for s in doc["steps"])


@pytest.mark.parametrize("via", ["kernel_thread", "kthread_create"])
def test_new_task_enters_ret_from_fork_with_interrupts_off(capsys, via):
    """schedule() ran switch_to under spin_lock_irq(&rq->lock): IF is clear at the
    child's first instruction; schedule_tail's unlock sets it, iret pops 0x286."""
    doc = walk_json(capsys, "--via", via)
    first = doc["steps"][0]
    assert first["symbol"] == "ret_from_fork+0x0"
    assert first["regs"]["eflags"] & X86_EFLAGS_IF == 0
    after_tail = doc["steps"][3]
    assert after_tail["symbol"] == "ret_from_fork+0x6"
    assert after_tail["regs"]["eflags"] & X86_EFLAGS_IF
    assert step_at(doc, "kernel_thread_helper+0x0")["regs"]["eflags"] == 0x286
