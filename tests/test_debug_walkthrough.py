"""The walk-through of issue 9, as a user scripts it: `kthreadd-emu debug -x
FILE --batch` in its own process (going back forks the session, so it never
runs inside pytest's process).  Each test is one "what must be shown" item."""

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="going back needs fork()")


def debug(tmp_path, *commands, cpus=3, args=()):
    script = tmp_path / "cmds.gdb"
    script.write_text("set context off\n" + "\n".join(commands) + "\n")
    argv = [sys.executable, "-m", "kthreadd_emu.cli", "debug", "--cpus", str(cpus)]
    proc = subprocess.run([*argv, "-x", str(script), "--batch", *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def register_dumps(out: str) -> list[dict]:
    """Each `info registers` block of the output, as {name: value}."""
    dumps, current = [], {}
    for line in out.splitlines():
        m = re.match(r"(\w+)\s+(0x[0-9a-f]+)\s", line + " ")
        if m and m.group(1) in ("eax", "eip", "eflags", "ss", "esp", "ebx", "ecx", "edx", "ebp",
                                "esi", "edi", "cs", "ds", "es", "fs", "gs"):  # fmt: skip
            current[m.group(1)] = int(m.group(2), 16)
            if m.group(1) == "ss":
                dumps.append(current)
                current = {}
    return dumps


def test_first_kernel_thread_helper_hit_is_pid_1s_birth(tmp_path):
    status, out, err = debug(tmp_path, "break kernel_thread_helper", "continue",
                             "info registers", "info symbol $ebx", "p/x current->stack",
                             "p current->pid")  # fmt: skip
    assert status == 0, err
    assert "Breakpoint 1, 0xc01000a7 in kernel_thread_helper ()" in out
    (regs,) = register_dumps(out)
    assert "kernel_init in section .text" in out
    assert re.search(r"^eflags\s+0x286\s+\[ PF SF IF \]$", out, re.M)
    assert (regs["cs"], regs["ds"], regs["es"]) == (0x60, 0x7B, 0x7B)
    assert (regs["fs"], regs["gs"], regs["ss"]) == (0xD8, 0xE0, 0x68)
    stack = int(re.search(r"^\$1 = (0x[0-9a-f]+)$", out, re.M).group(1), 16)
    assert regs["esp"] == stack + 0x1FF0
    assert "$2 = 1" in out


ENTRY_STEPS = 36  # ret_from_fork .. iret .. kernel_thread_helper's call: see the test


def test_stepi_through_the_entry_path_and_back_over_the_iret(tmp_path):
    """From ret_from_fork to the thread function (kernel_init), then back one
    instruction at a time: every register equals the forward pass's."""
    forward = ["stepi", "info registers"] * ENTRY_STEPS
    back = ["reverse-stepi", "info registers"] * ENTRY_STEPS
    status, out, err = debug(tmp_path, "break ret_from_fork", "continue", "info registers",
                             *forward, *back)  # fmt: skip
    assert status == 0, err
    dumps = register_dumps(out)
    assert len(dumps) == 2 * ENTRY_STEPS + 1
    fwd, bwd = dumps[: ENTRY_STEPS + 1], dumps[ENTRY_STEPS + 1 :]
    sym = {name: int(addr, 16) for addr, name in re.findall(r"(0x[0-9a-f]+) <(\w+)>", out)}
    assert fwd[0]["eip"] == sym["ret_from_fork"]
    assert fwd[-1]["eip"] == sym["kernel_init"]  # the thread function
    iret = next(i for i, r in enumerate(fwd) if r["eip"] == sym["kernel_thread_helper"])
    assert fwd[iret - 1]["eip"] == sym["irq_return"] and fwd[iret]["cs"] == 0x60
    # Going back: the same states in the other order, over the iret to ret_from_fork.
    assert bwd == list(reversed(fwd[:-1]))


def stop_lines(out: str, function: str) -> list[int]:
    return [int(n) for n in re.findall(rf"{function} \(\) at kernel_model/\w+\.py:(\d+)", out)]


def test_copy_thread_python_lines_print_and_finish(tmp_path):
    """Each `next` runs one line of copy_thread, in the kernel's order; what each
    line did shows in the values printed after it."""
    status, out, err = debug(tmp_path, "break copy_thread if current->pid == 2", "continue",
                             "print childregs", "next", "print/x childregs->bx", "next",
                             "print childregs->bx == kthread", "set var childregs->ax = 0x5a",
                             "next", "print childregs->ax", "next", "next",
                             "print p->thread.sp == &childregs->bx", "step", "finish",
                             "bt")  # fmt: skip
    assert status == 1  # the first print: see below
    first, *stops = stop_lines(out, "copy_thread")
    # The hit, five nexts, a step (no call on that line: the next line), finish's line.
    assert stops == [first + 1, first + 2, first + 3, first + 4, first + 5, first + 6,
                     first + 6]  # fmt: skip
    # Before its line ran, the local does not exist yet; the only failure.
    assert err.strip() == 'No symbol "childregs" in current context.'
    # task_pt_regs (a fresh stack), *childregs = *regs, childregs->ax = 0, thread.sp.
    assert re.findall(r"^\$\d+ = (.*)$", out, re.M) == ["0x0", "1", "0", "1"]
    assert "Run till exit from #0  copy_thread () at kernel_model/process_32.py:" in out
    assert re.search(r"^#0  copy_process \(\) at kernel_model/fork.py:\d+$", out, re.M)


def test_the_first_copy_thread_of_a_boot_is_pid_1s_birth(tmp_path):
    """rest_init's kernel_thread(kernel_init) forks first: nothing is forked
    before it (the other CPUs' idle tasks come later, from pid 1)."""
    status, out, err = debug(tmp_path, "break copy_thread", "continue", "bt")
    assert status == 0, err
    frames = [f.split(" ")[0] for f in re.findall(r"^#\d+\s+(.*)$", out, re.M)]
    assert frames[:5] == ["copy_thread", "copy_process", "do_fork", "kernel_thread", "rest_init"]


def test_pid_1_forks_the_other_cpus_idle_tasks_in_smp_init(tmp_path):
    """kernel_init -> smp_init -> cpu_up -> native_cpu_up -> do_boot_cpu ->
    fork_idle, in pid 1; the idle task is pid 0 and its real_parent is pid 1,
    and the CPU comes online only after that."""
    idle = "((struct task_struct *)*(int*)per_cpu(per_cpu__current_task, {}))"
    status, out, err = debug(tmp_path, "break fork_idle", "continue", "bt", "p current->pid",
                             "p/x *(int*)per_cpu(per_cpu__current_task, 1)", "delete",
                             "continue", f"p {idle.format(1)}->pid",
                             f"p {idle.format(1)}->real_parent->pid",
                             f"p {idle.format(2)}->real_parent->pid")  # fmt: skip
    assert status == 0, err
    frames = [f.split(" ")[0] for f in re.findall(r"^#\d+\s+(.*)$", out, re.M)]
    assert frames[:6] == ["fork_idle", "do_boot_cpu", "native_cpu_up", "cpu_up", "smp_init",
                          "kernel_init"]  # fmt: skip
    values = re.findall(r"^\$\d+ = (.*)$", out, re.M)
    # In pid 1, while CPU 1 has no task yet; once booted, pid 0 children of pid 1.
    assert values == ["1", "0x0", "0", "1", "1"]


def test_task_2_shows_where_kthreadd_sleeps(tmp_path):
    status, out, err = debug(tmp_path, "continue", "task 2", "info registers eip esp",
                             "p/x task(2)->thread.ip", "p/x task(2)->thread.sp")  # fmt: skip
    assert status == 0, err
    assert "[Switching to task 2 (kthreadd)]" in out
    eip = re.search(r"^eip\s+(0x[0-9a-f]+)", out, re.M).group(1)
    esp = re.search(r"^esp\s+(0x[0-9a-f]+)", out, re.M).group(1)
    assert f"$1 = {eip}" in out and f"$2 = {esp}" in out
    assert "<switch_to+" in out


def test_backtraces_end_at_kernel_thread_helper(tmp_path):
    status, out, err = debug(tmp_path, "break copy_process if current->pid == 2", "continue",
                             "bt", "delete", "break kthread", "continue", "bt")  # fmt: skip
    assert status == 0, err
    first, second = out.split("Breakpoint 2, ")[0], out.split("Breakpoint 2, ")[1]
    frames = re.findall(r"^#\d+\s+(.*)$", first, re.M)
    names = [f.split(" ")[0] for f in frames]
    assert names[:6] == ["copy_process", "do_fork", "kernel_thread", "create_kthread", "kthreadd",
                         "0xc01000ae"]  # fmt: skip
    assert "kernel_thread_helper" in frames[-1]  # the guest caller of kthreadd
    frames = re.findall(r"^#\d+\s+(.*)$", second, re.M)
    assert frames[0].startswith("kthread () at kernel_model/kthread.py:")
    assert "kernel_thread_helper" in frames[-1] and len(frames) == 2


def test_watchpoints_on_a_new_tasks_pt_regs_ax(tmp_path):
    """copy_thread's write (a Python frame) and RESTORE_REGS's read (rwatch).  A
    write watchpoint stops when the value changes, as gdb's does: the fresh
    stack holds 0 there, so the test first puts something else in the slot."""
    status, out, err = debug(tmp_path, "break copy_thread if current->pid == 2", "continue",
                             "next", "set var childregs->ax = 0x5a5a5a5a",
                             "watch childregs->ax", "rwatch childregs->ax", "continue", "bt",
                             "continue", "info registers eax")  # fmt: skip
    assert status == 0, err
    write = out.split("\nHardware watchpoint 2: *")[1]
    read = out.split("\nHardware read watchpoint 3: *")[1]
    assert "Old value = 0x5a5a5a5a\nNew value = 0x0\ncopy_thread () at" in write
    assert "#1  copy_process () at kernel_model/fork.py" in write
    assert "Value = 0x0\n0xc0100083 in restore_nocheck ()" in read
    assert re.search(r"^eax\s+0x0\s", read, re.M)


def test_a_failed_command_after_going_back_fails_the_batch(tmp_path):
    status, out, err = debug(tmp_path, "break ret_from_fork", "continue", "stepi 3",
                             "reverse-stepi 2", "frobnicate")  # fmt: skip
    assert status == 1
    assert 'Undefined command: "frobnicate"' in err


def test_going_back_further_than_the_history_stops_at_its_start(tmp_path):
    """As gdb does: past the first instruction the session ran (the history covers
    it all), the machine stops there and says so, again if asked again; that
    instruction is where the first stepi from the start stops."""
    status, out, err = debug(tmp_path, "stepi", "info registers eip")
    assert status == 0, err
    first = re.findall(r"^eip\s+(0x[0-9a-f]+)", out, re.M)
    status, out, err = debug(tmp_path, "break ret_from_fork", "continue",
                             "reverse-stepi 9999999", "info registers eip", "reverse-stepi",
                             "info registers eip")  # fmt: skip
    assert status == 0, err
    assert out.count("No more reverse-execution history.") == 2
    assert re.findall(r"^eip\s+(0x[0-9a-f]+)", out, re.M) == first * 2


def test_copy_thread_puts_gs_in_pt_regs_and_leaves_thread_gs_0(tmp_path):
    """With the stack protector gs is not lazy: task_user_gs(p) is the pt_regs
    slot (which RESTORE_REGS pops), and thread.gs keeps init_task's 0."""
    status, out, err = debug(tmp_path, "break ret_from_fork", "continue",
                             "p/x ((struct pt_regs *)$esp)->gs", "p/x current->thread.gs",
                             "delete", "continue", "p/x task(2)->thread.gs")  # fmt: skip
    assert status == 0, err
    assert re.findall(r"^\$\d+ = (.*)$", out, re.M) == ["0xe0", "0x0", "0x0"]


def test_a_task_that_never_ran_shows_kgdbs_ebp_its_thread_function(tmp_path):
    """sleeping_thread_to_gdb_regs: ebp = *(unsigned long *)thread.sp; for a task
    not yet run that word is pt_regs.bx (kthreadd, while pid 1 is being born)."""
    status, out, err = debug(tmp_path, "break ret_from_fork", "continue", "task 2",
                             "info registers ebp eflags", "info symbol $ebp",
                             "p/x task(2)->thread.sp")  # fmt: skip
    assert status == 0, err
    assert re.search(r"^eflags\s+0x0\s", out, re.M)
    assert "kthreadd in section .text" in out
    ebp = int(re.search(r"^ebp\s+(0x[0-9a-f]+)", out, re.M).group(1), 16)
    assert ebp != 0
