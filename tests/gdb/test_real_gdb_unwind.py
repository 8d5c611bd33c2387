"""The real gdb (-batch) with the ELF's line tables and call frames: `list`, a
breakpoint on an entry_32.S line, `step` by .S line, and backtraces through
the entry code, the Python functions (their thunks and the runtime's frame
records) and a loaded thread function, ending cleanly (skipped, with the
reason, where gdb is not installed)."""

import re

from gdbrun import Server, gdb_batch, needs_gdb

from kernel_model.kernel import ASM_DIR
from kthreadd_emu.scenario import booted_kernel

pytestmark = needs_gdb

ENTRY = ASM_DIR / "entry_32.S"
ENTRY_LINES = ENTRY.read_text().splitlines()
GDB_ERRORS = ("Backtrace stopped", "Cannot access memory", "?? ()", "previous frame")


def line_of(text: str, after: str) -> int:
    """The entry_32.S line number of the first line that is ``text`` after ``after``."""
    start = ENTRY_LINES.index(after)
    return next(i + 1 for i in range(start, len(ENTRY_LINES)) if ENTRY_LINES[i].strip() == text)


def backtraces(out: str) -> dict[str, list[str]]:
    """thread apply all bt: each thread's extra info -> its frames' function names."""
    found = {}
    for block in re.split(r"\n(?=Thread \d+ \(Thread )", out):
        m = re.match(r"Thread \d+ \(Thread \d+ \((.+?)\)\):", block)
        if m:
            found[m[1]] = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", block, re.M)
    return found


def test_every_sleeping_thread_unwinds_to_kernel_thread_helper(booted):
    out = booted.gdb("thread apply all bt")
    assert not any(error in out for error in GDB_ERRORS), out
    traces = backtraces(out)
    kern = booted_kernel(3)  # the server's machine: each per-CPU thread's function
    threads = [(fn, t) for by_fn in kern.percpu_threads.values() for fn, t in by_fn.items()]
    assert len(threads) == 3 * 5
    for fn, task in threads:
        frames = next(
            f
            for extra, f in traces.items()
            if extra.startswith(f"{task.comm.decode()} pid {task.pid} ")
        )
        assert frames == ["switch_to", "py_ret", "schedule", fn, "py_ret", "kthread",
                          "kernel_thread_helper"], (task.comm, frames)  # fmt: skip
    kthreadd = next(f for extra, f in traces.items() if extra.startswith("kthreadd pid 2 "))
    assert kthreadd == ["switch_to", "py_ret", "schedule", "kthreadd", "kernel_thread_helper"]
    # An idle CPU is in Python (cpu_idle, a root with no guest caller): py_root ends it.
    idle = [f for extra, f in traces.items() if extra.startswith("swapper pid 0 R")]
    assert len(idle) == 3 and all(f == ["py_ret", "py_root"] for f in idle), idle


def test_python_frames_name_their_source_lines(booted):
    n = re.search(r"^\s+(\d+)\s+Thread \d+ \(kthreadd pid 2 ", booted.gdb("info threads"), re.M)[1]
    out = booted.gdb(f"thread {n}", "bt", "frame 3", "info frame")
    assert re.search(r"#2 .* in schedule \(\) at .*kernel_model/sched\.py:\d+", out)
    assert re.search(r"#3 .* in kthreadd \(\) at .*kernel_model/kthread\.py:\d+", out)
    assert "caller of frame at" in out and "Saved registers:" in out


def test_list_ret_from_fork_shows_the_entry_code(booted):
    at = ENTRY_LINES.index("ret_from_fork:") + 1
    out = gdb_batch(booted.elf, "list ret_from_fork", "info line ret_from_fork",
                    "info line kthreadd")  # fmt: skip
    for n in range(at - 3, at + 6):
        assert f"{n}\t{ENTRY_LINES[n - 1]}\n" in out, n
    first = line_of("pushl %eax", "ret_from_fork:")  # its first instruction
    assert f'Line {first} of "{ENTRY}" starts at address' in out and "<ret_from_fork>" in out
    # A Python function's thunk is at its def line.
    assert re.search(r'Line \d+ of ".*kernel_model/kthread\.py" starts at address', out)


def test_a_fresh_task_shows_ret_from_fork(tmp_path):
    srv = Server(tmp_path / "kernel.elf", "--cpus", "2")
    try:
        out = srv.gdb("break schedule_tail", "continue", "bt")
    finally:
        srv.stop()
    out = out.split("hit Breakpoint 1")[1]  # (before boot, CPU 0 is at 0)
    assert not any(error in out for error in GDB_ERRORS), out
    frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", out, re.M)
    assert frames == ["schedule_tail", "ret_from_fork"]


def test_a_breakpoint_on_an_entry_code_line_and_step_by_line(tmp_path):
    mov = line_of("movl %edx, %eax", "kernel_thread_helper:")
    srv = Server(tmp_path / "kernel.elf", "--cpus", "2")
    try:
        out = srv.gdb(f"break entry_32.S:{mov}", "continue", "info line *$pc", "step",
                      "info line *$pc", "step", "bt")  # fmt: skip
    finally:
        srv.stop()
    assert re.search(rf"hit Breakpoint 1, kernel_thread_helper \(\) at .*entry_32\.S:{mov}\n", out)
    assert f'Line {mov} of "{ENTRY}" starts at address' in out
    # step: one .S line (push %edx), then the next line with code (call *%ebx).
    assert f"{mov + 1}\t{ENTRY_LINES[mov]}\n" in out and "push %edx" in ENTRY_LINES[mov]
    assert f'Line {mov + 1} of "{ENTRY}"' in out
    call = line_of("call *%ebx", "kernel_thread_helper:")
    assert f"{call}\t{ENTRY_LINES[call - 1]}\n" in out
    assert re.search(rf"^#0\s+kernel_thread_helper \(\) at .*entry_32\.S:{call}$", out, re.M)


def test_inside_a_thread_function_the_walk_reaches_kernel_thread_helper(tmp_path):
    source = tmp_path / "mine.S"
    source.write_text(
        "\t.globl mine\nmine:\n\tpushl %ebp\n\tmovl %esp, %ebp\n\tcall inner\n"
        "\tpopl %ebp\n\tret\n\t.globl inner\ninner:\n\tmovl $8, %eax\n\tret\n"
    )
    srv = Server(tmp_path / "kernel.elf", "--cpus", "2", "--load", str(source),
                 "--run", "kthread mine")  # fmt: skip
    try:
        out = srv.gdb("break inner", "continue", "bt", "finish")
    finally:
        srv.stop()
    out = out.split("hit Breakpoint 1")[1]
    assert not any(error in out for error in GDB_ERRORS), out
    frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", out, re.M)
    assert frames[:5] == ["inner", "mine", "py_ret", "kthread", "kernel_thread_helper"]
    assert "inner () at " in out and "mine.S:10" in out
    assert re.search(r"^mine \(\) at .*mine\.S:6$", out, re.M)  # finish: back in mine
