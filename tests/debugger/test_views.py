"""The views of debugger/, on a booted 3-CPU machine, without the engine."""

import pytest

from debugger import examine, registers
from debugger.expr import CExpr, EvalError, ExprError
from debugger.gdbfmt import eflags_text
from debugger.tasks import find_task, sleeping_registers, tasks_listing
from debugger.values import Env, format_value
from kthreadd_emu.scenario import booted_kernel


@pytest.fixture(scope="module")
def kern():
    return booted_kernel(3)


def test_eflags_as_gdb_shows_it():
    assert eflags_text(0x286) == "[ PF SF IF ]"
    line = registers.register_line("eflags", 0x286, None)
    assert line == "eflags         0x286               [ PF SF IF ]"


def test_selectors_decoded_through_this_cpus_gdt(kern):
    regs = {"cs": 0x60, "ss": 0x68, "ds": 0x7B, "es": 0x7B, "fs": 0xD8, "gs": 0xE0}
    lines = {line.split()[0]: line for line in registers.info_segments(kern, 1, regs)}
    assert "index 12 (GDT) RPL 0" in lines["cs"] and "code read/exec" in lines["cs"]
    assert "index 13 (GDT) RPL 0" in lines["ss"] and "DPL 0" in lines["ss"]
    assert "index 15 (GDT) RPL 3" in lines["ds"] and "DPL 3" in lines["ds"]
    percpu = kern.machine.map.percpu_copy(1) - kern.machine.map.percpu
    assert f"base {percpu:#010x}" in lines["fs"]  # CPU 1's __per_cpu_offset
    assert "limit 0x00000018" in lines["gs"] and "index 28" in lines["gs"]


def test_x_words_and_instructions(kern):
    dis, state = examine.Disassembly(kern), examine.Examine()
    helper = kern.symbols["kernel_thread_helper"]
    words = examine.examine(kern, dis, state, "4xw", helper, 0)
    assert words[0].startswith(f"{helper:#x} <kernel_thread_helper>:\t0x")
    assert len(words[0].split("\t")) == 5
    code = kern.mem.read(helper, 4)
    assert words[0].split("\t")[1] == f"0x{int.from_bytes(code, 'little'):08x}"
    insns = examine.examine(kern, dis, state, "2i", helper, helper + 2)
    assert insns == [
        f"   {helper:#x} <kernel_thread_helper>:\tpushl  $0",
        f"=> {helper + 2:#x} <kernel_thread_helper+2>:\tmovl   %edx, %eax",
    ]
    with pytest.raises(examine.ExamineError, match="Cannot access memory at address 0x0"):
        examine.examine(kern, dis, state, "4xw", 0, 0)


def test_sleeping_kthreadd_as_kgdb_sees_it(kern):
    task = find_task(kern, 2)
    regs = sleeping_registers(kern, task)
    assert regs["eip"] == task.thread.ip and regs["esp"] == task.thread.sp
    assert regs["ebp"] == kern.mem.u32(task.thread.sp)  # pushl %ebp, the last push
    assert kern.symbols.describe(regs["eip"]).startswith("switch_to+")


def test_tasks_show_cpu_state_and_python_line(kern):
    lines = tasks_listing(kern, 2)
    row = next(line for line in lines if line.startswith("*"))
    assert " 2 " in row and "kthreadd" in row and "thread.ip switch_to+" in row
    assert "kernel_model/sched.py:" in row


def test_c_expressions(kern):
    task = find_task(kern, 2)
    env = Env(kern, sleeping_registers(kern, task), task, {"childregs": None})

    def show(text):
        return format_value(CExpr(text).value(env), None, kern.symbols)

    assert show("current->comm") == '"kthreadd"'
    assert show("task(2)->thread.sp") == str(task.thread.sp)
    assert show("*(int *)$esp") == str(kern.mem.unpack("<i", task.thread.sp)[0])
    assert show("$esp") == f"(void *) {task.thread.sp:#x}"
    assert show('current->comm == "kthreadd" && !0') == "1"
    assert show("7 / 2") == "3"
    with pytest.raises(ExprError):
        CExpr("__import__('os')")
    with pytest.raises(EvalError, match="Python NoneType"):
        CExpr("childregs->ax").value(env)
