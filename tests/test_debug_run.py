"""debug --load/--run and asmtest --debug, as a user runs them (own processes:
going back and checkpoints fork the session); `list`, `info threads`, and a
guest fault that leaves the debugger usable."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OOPS = str(ROOT / "tests" / "asm" / "oops.S")
FAILING = """\
#@ test answer_is_wrong
#@ run kthread answer arg=5
#@ at check: eax == 43

answer:
\tmovl $42, %eax
check:
\tret
"""


def kemu(tmp_path, *argv, commands=()):
    script = tmp_path / "cmds.gdb"
    script.write_text("set context off\n" + "\n".join(commands) + "\n")
    proc = subprocess.run([sys.executable, "-m", "kthreadd_emu.cli", *argv, "-x", str(script),
                           "--batch"], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def test_load_and_run_a_routine_that_oopses(tmp_path):
    run = ("--run", "kthread read_through arg=0")
    status, out, err = kemu(tmp_path, "debug", "--load", OOPS, *run,
                            commands=["break read_through", "continue", "info registers eax",
                                      "bt", "continue", "info registers eip", "p 6 * 7",
                                      "tasks", "continue"])  # fmt: skip
    assert status == 0, err
    assert "The machine is stopped before the run starts (continue runs it)." in out
    assert "Breakpoint 1, 0xc" in out and "in read_through ()" in out
    assert re.search(r"^eax\s+0x0\s", out, re.M)  # arg=0: the NULL it reads through
    frames = re.findall(r"^#\d+\s+(.*)$", out, re.M)
    assert frames[0].endswith("in read_through+0x0 ()") and frames[1].startswith("kthread ()")
    assert "kernel_thread_helper" in frames[-1] and "runtime.py" not in out
    # The oops, then the machine stopped there, still inspectable.
    assert "BUG: unable to handle kernel NULL pointer dereference at (null)" in out
    assert "The kernel oopsed at 0x" in out
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <read_through>$", out, re.M)
    assert "$1 = 42" in out and "\\_asmtest" in out
    assert out.rstrip().endswith("The machine is idle: every CPU is in cpu_idle "
                                 "(continue waits for work).")  # fmt: skip


def test_run_needs_load(tmp_path):
    status, _, err = kemu(tmp_path, "debug", "--run", "kthread answer")
    assert status == 1 and "--run needs --load FILE " in err


def test_asmtest_debug_stops_at_the_failing_expectation(tmp_path):
    test = tmp_path / "fail.S"
    test.write_text(FAILING)
    status, out, err = kemu(tmp_path, "asmtest", "--debug", str(test),
                            commands=["info registers eax", "p current->comm", "bt"])  # fmt: skip
    assert status == 1  # the test failed
    assert "FAIL " in out and "eax = 0x0000002a (42)" in out
    assert "the debugger stops at check" in out
    assert "Temporary breakpoint" in out or "Breakpoint 1, 0xc" in out
    assert re.search(r"^eax\s+0x2a\s+42$", out, re.M)  # as it was when the check ran
    assert '$1 = "asmtest"' in out
    assert re.search(r"^#0\s+0x[0-9a-f]+ in check\+0x0 \(\)$", out, re.M)


def test_list_and_info_threads(tmp_path):
    status, out, err = kemu(tmp_path, "debug", "--cpus", "2",
                            commands=["break copy_thread", "continue", "list", "list",
                                      "delete", "continue", "thread 2", "info threads",
                                      "echo --\\n", "list", "cpu 0", "list"])  # fmt: skip
    # CPU 0's idle task is in Python (cpu_idle, at py_ret): no .S line there.
    assert (
        status == 1 and err.strip() == "No source line for 0xc0200000 (py_ret+0x0): use disassemble"
    )
    python, guest = out.split("--\n")
    source = (ROOT / "kernel_model" / "process_32.py").read_text().splitlines()
    line = int(re.search(r"copy_thread \(\) at kernel_model/process_32.py:(\d+)", out).group(1))
    listed = re.findall(r"^(\d+)\t(.*)$", python, re.M)
    assert [int(n) for n, _ in listed] == list(range(line - 5, line + 15))
    assert all(source[int(n) - 1] == text for n, text in listed)
    assert re.search(r"^  Id\s+Target Id\s+Frame $", out, re.M)
    row = r"^\* 2\s+Thread 2 \(kthreadd pid 2 S cpu\d\)\s+0xc[0-9a-f]+ in switch_to \(\)$"
    assert re.search(row, out, re.M)
    # kthreadd sleeps where switch_to resumes it (thread.ip, the `1:` after the jmp
    # to __switch_to): the kernel's own entry_32.S around that line.
    entry = (ROOT / "asm" / "entry_32.S").read_text().splitlines()
    resume = entry.index("1:\tpopl %ebp") + 1
    listed = re.findall(r"^(\d+)\t(.*)$", guest, re.M)
    assert [int(n) for n, _ in listed] == list(range(resume - 5, resume + 5))
    assert all(entry[int(n) - 1] == text for n, text in listed)


def test_list_in_a_loaded_file(tmp_path):
    spin = tmp_path / "spin.S"
    spin.write_text("\t.globl spin\nspin:\tincl %eax\n\tjmp spin\n" + "\tnop\n" * 20)
    status, out, err = kemu(tmp_path, "debug", "--load", str(spin), "--run", "kthread spin",
                            commands=["break spin", "continue", "stepi", "list", "list",
                                      "list", "list"])  # fmt: skip
    assert status == 1 and err.strip() == f"Line number 24 out of range; {spin} has 23 lines."
    listed = re.findall(r"^(\d+)\t(.*)$", out, re.M)
    assert listed[:3] == [("1", "\t.globl spin"), ("2", "spin:\tincl %eax"), ("3", "\tjmp spin")]
    assert [int(n) for n, _ in listed] == list(range(1, 24))


CALLS = """\
\t.globl caller
caller:
\tmovl $1, %eax
\tcall helper
\taddl $2, %eax ; addl $3, %eax
\tmovl $7, %ecx
\tret
helper:
\tpushl %ebx
\tmovl $10, %ebx
\tpopl %ebx
\tret
"""


def source_lines(out):
    """The `LINE\\tTEXT` lines a line step printed, as (line, text)."""
    return [(int(n), text) for n, text in re.findall(r"^(\d+)\t(.*)$", out, re.M)]


def test_step_and_next_go_by_source_lines_in_guest_code(tmp_path):
    calls = tmp_path / "calls.S"
    calls.write_text(CALLS)
    run = ("debug", "--load", str(calls), "--run", "kthread caller")
    status, out, err = kemu(tmp_path, *run,
                            commands=["break caller", "continue", "next", "next", "i r eax",
                                      "next", "i r eax"])  # fmt: skip
    assert status == 0, err
    # next runs over helper's call and both statements of line 5, one line at a time.
    assert source_lines(out) == [(4, "call helper"), (5, "addl $2, %eax"), (6, "movl $7, %ecx")]
    assert re.findall(r"^eax\s+0x(\d)\s", out, re.M) == ["1", "6"]
    status, out, err = kemu(tmp_path, *run,
                            commands=["break caller", "continue", "step", "step", "step", "bt",
                                      "step", "step", "step"])  # fmt: skip
    assert status == 0, err
    # step enters helper and comes back to the line after the call.
    assert [n for n, _ in source_lines(out)] == [4, 9, 10, 11, 12, 5]
    assert re.search(r"^#0\s+0x[0-9a-f]+ in helper\+0x1 \(\)\n#1\s+0x[0-9a-f]+ in caller\+0xa",
                     out, re.M)  # fmt: skip
    assert re.findall(r"^0x[0-9a-f]+ in (\w+) \(\)$", out, re.M)[-1] == "caller"


def test_line_steps_in_entry_32_cross_into_python_and_back(tmp_path):
    """ret_from_fork: next to the call of schedule_tail, step into its Python
    (not the calling convention's glue), finish back to the line after the call."""
    status, out, err = kemu(tmp_path, "debug",
                            commands=["break ret_from_fork", "continue", "next", "step",
                                      "finish", "next"])  # fmt: skip
    assert status == 0, err
    entry = (ROOT / "asm" / "entry_32.S").read_text().splitlines()
    call = entry.index("\tcall schedule_tail") + 1
    assert source_lines(out) == [(call, "call schedule_tail"), (call + 3, "andl %esp, %ebp")]
    assert re.search(r"^schedule_tail \(\) at kernel_model/sched.py:\d+$", out, re.M)
    assert "runtime.py" not in out
    assert re.search(r"^Run till exit from #0  schedule_tail \(\).*\n0x[0-9a-f]+ in ret_from_fork",
                     out, re.M)  # fmt: skip
