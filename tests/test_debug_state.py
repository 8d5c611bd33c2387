"""What the debugger shows and changes, as a user asks it: each CPU's own idle
task, gdb's watchpoint table, `thread apply`, register writes, `echo`, and a
source file that changed under `list`."""

import re

import pytest


def registers(out: str, name: str) -> list[int]:
    return [int(v, 16) for v in re.findall(rf"^{name}\s+(0x[0-9a-f]+)\s", out, re.M)]


def test_each_cpu_shows_its_own_idle_task(batch):
    """After `continue` to idle every CPU runs its own idle task (pid 0 on each):
    its registers, its stack, its context line (they were CPU 0's on every CPU)."""
    per_cpu = [f"cpu {n}\ninfo registers esp\nprint (unsigned)$esp - (unsigned)current->stack"
               "\ncontext" for n in range(3)]  # fmt: skip
    status, out, err = batch("continue", *per_cpu)
    assert status == 0, err
    esps = registers(out, "esp")
    assert len(set(esps)) == 3  # three stacks
    assert all(0 < int(v) <= 8192 for v in re.findall(r"^\$\d+ = (\d+)$", out, re.M))
    assert re.findall(r"^CPU (\d)  pid 0 swapper  state 0  running on CPU (\d)", out, re.M) == [
        ("0", "0"), ("1", "1"), ("2", "2"),
    ]  # fmt: skip


def test_a_cpu_before_boot_is_one_line(batch):
    status, out, err = batch("cpu 1", "info registers esp", "continue", "cpu 1")
    assert status == 1  # not 2 (the debugger's internal error)
    assert err.splitlines() == [
        "cpu 1: not up yet (before boot only CPU 0 runs; continue boots the others)"
    ]
    assert "[Switching to CPU 1, task 0 (swapper)]" in out


def test_info_watchpoints_lists_watchpoints_with_their_types(batch):
    status, out, err = batch("info watchpoints", "break kernel_thread_helper",
                             "watch *0xc0900000", "rwatch *0xc0900004", "awatch current->pid",
                             "info watchpoints", "info breakpoints")  # fmt: skip
    assert status == 0, err
    tables = out.split("Num     Type")
    assert "No watchpoints." in tables[0]
    watch = [line.split(None, 4) for line in tables[1].splitlines()[1:]]
    assert [row[0] for row in watch] == ["2", "3", "4"]
    assert re.findall(r"^\d+\s+(\w+ watchpoint)\s+keep y\s+(\S+)$", tables[1], re.M) == [
        ("hw watchpoint", "*0xc0900000"), ("read watchpoint", "*0xc0900004"),
        ("acc watchpoint", "current->pid"),
    ]  # fmt: skip
    assert re.search(r"^1\s+breakpoint\s+keep y\s+0xc01000a7", tables[2], re.M)
    assert len(tables[2].strip().splitlines()) == 5


def test_echo_writes_utf8_and_c_escapes(batch):
    status, out, err = batch("echo é\\tü\\101\\303\\251\\9\\n", "echo trailing\\", "echo \\n")
    assert status == 0, err
    assert out.endswith("é\tüAé9\ntrailing\n")


def test_thread_apply_runs_a_command_on_each_task(batch):
    status, out, err = batch("continue", "thread 1", "thread apply all bt",
                             "thread apply 2 3 -q print current->pid", "thread",
                             "thread apply 1-2 frobnicate", "thread apply 2 -c frobnicate",
                             "thread apply 99 bt", "thread apply all stepi",
                             "thread apply 1 define mine", "echo not a body\\n", "end")  # fmt: skip
    headers = re.findall(r"^Thread (\d+) \(Thread \1 \((\S+) pid \1 S cpu\d\)\):$", out, re.M)
    pids = [int(p) for p, _ in headers]
    everyone = list(range(17, 0, -1))  # all: the newest first
    # Then 1 (1-2 stops at its error), 2 (-c), 17 (stepi refused), 1 (define refused).
    assert pids == [*everyone, 1, 2, 17, 1]
    assert ("2", "kthreadd") in headers
    sections = out.split("\nThread ")[1 : len(everyone) + 1]
    assert all(re.search(r"^#0  0x[0-9a-f]+ in switch_to", s, re.M) for s in sections)
    assert re.findall(r"^\$\d+ = (\d+)$", out, re.M) == ["2", "3"]
    assert "[Current task is 1 (init)]" in out  # the selection is restored
    assert err.splitlines() == [
        'Undefined command: "frobnicate".  Try "help".',  # 1-2 stops at the first error
        'Undefined command: "frobnicate".  Try "help".',  # -c says it and goes on
        "Invalid thread ID: 99 (tasks: 0, " + ", ".join(map(str, range(1, 18))) + ")",
        "Cannot resume the machine in thread apply.",
        "define: its body would be the lines after thread apply",
        'Undefined command: "end".  Try "help".',
    ]
    assert out.endswith("not a body\n")
    assert status == 1


def test_set_a_running_tasks_registers(batch):
    """The live registers of the CPU the task runs on: the machine goes on from
    what was written (EIP past `pushl $0`: the push never runs)."""
    status, out, err = batch("break kernel_thread_helper", "continue", "info registers esp",
                             "set $eax = 0x1234", "set $edx = $eax + 1", "set var $ebx = -1",
                             "info registers eax edx ebx", "set $eip = $eip + 2", "stepi",
                             "info registers eip eax esp")  # fmt: skip
    assert status == 0, err
    assert registers(out, "eax") == [0x1234, 0x1235]  # movl %edx, %eax ran on the written edx
    assert registers(out, "edx") == [0x1235] and registers(out, "ebx") == [0xFFFFFFFF]
    assert registers(out, "eip")[-1] == 0xC01000AB  # movl %edx, %eax ran, not the push
    esp = registers(out, "esp")
    assert esp[0] == esp[1]


@pytest.mark.parametrize(
    "commands, message",
    [
        (["continue", "task 2", "set $eax = 1"],
         "task 2 is switched out: its registers are what Linux saved, not a CPU's"),
        (["break kernel_thread_helper", "continue", "set $cs = 0x10"],
         "cs cannot be written (general registers only)"),
        (["break copy_thread", "continue", "set $eip = kernel_thread_helper"],
         "eip cannot be written while the task is in a Python kernel function: its return "
         "goes back to the guest caller"),
        (["set $nosuch = 1"], "Invalid register `nosuch'"),
    ],
)  # fmt: skip
def test_register_writes_the_machine_cannot_take_are_one_line(batch, commands, message):
    status, out, err = batch(*commands, "echo still here\\n")
    assert status == 1 and err.strip() == message and "still here" in out


SPIN = "\t.globl spin\nspin:\tincl %eax\n\tjmp spin\n"


def test_list_after_the_source_file_changed(tmp_path, batch):
    """`record save` over the loaded source: text is gdb's warning (once), binary
    one line, and the session goes on."""
    victim = tmp_path / "victim.S"
    run = ("--load", str(victim), "--run", "kthread spin")
    victim.write_text(SPIN)
    status, out, err = batch("record start", "break spin", "continue", "list",
                             f"record save {victim} ftrace", "list", "list", argv=run)  # fmt: skip
    assert status == 0, err
    assert err.splitlines() == ["warning: Source file is more recent than executable."]
    assert "2\tspin:\tincl %eax" in out
    victim.write_text(SPIN)
    status, out, err = batch("record start", "break spin", "continue",
                             f"record save {victim} perfetto-proto", "list",
                             "echo still here\\n", argv=run)  # fmt: skip
    assert status == 1 and "still here" in out
    assert err.splitlines() == [f"{victim}: not text any more (it changed since it was loaded)"]
