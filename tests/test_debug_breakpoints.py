"""Breakpoints and steps in `kthreadd-emu debug --batch`, as gdb users expect
them: a temporary breakpoint's hit says so, a location the engine can never
stop at is refused with the reason, and a store into code is what the next
steps run."""

import re

HELPER = 0xC01000A7  # kernel_thread_helper: pushl $0; movl %edx, %eax; push %edx; call *%ebx


def debug(cli, tmp_path, *commands):
    script = tmp_path / "cmds.gdb"
    script.write_text("set context off\n" + "\n".join(commands) + "\n")
    status, out, err = cli("debug", "--cpus", "1", "-x", script, "--batch")
    assert "Traceback" not in out + err and "internal error" not in out + err
    return status, out, err


def test_a_temporary_breakpoint_hit_is_announced_as_gdb_does(cli, tmp_path):
    status, out, err = debug(cli, tmp_path, "tbreak kernel_thread_helper", "continue",
                             "info breakpoints", "continue")  # fmt: skip
    assert status == 0, err
    assert f"Temporary breakpoint 1 at {HELPER:#x}: kernel_thread_helper+0x0" in out
    assert f"\nTemporary breakpoint 1, {HELPER:#010x} in kernel_thread_helper ()\n" in out
    assert "\nBreakpoint 1," not in out
    assert "No breakpoints or watchpoints." in out  # it was deleted when hit


def test_break_at_py_ret_is_refused_with_the_reason(cli, tmp_path):
    status, out, err = debug(cli, tmp_path, "break py_ret", "break *0xc0200001",
                             "info breakpoints")  # fmt: skip
    assert status == 1  # a command failed
    assert err.splitlines() == [
        "cannot break at py_ret (0xc0200000): it is where guest code returns to its "
        "Python caller, not a kernel instruction; break on the Python caller",
        "cannot break at 0xc0200001: nothing runs there (the thunk page holds only the "
        "entries of Python functions; break on one by name)",
    ]
    assert "No breakpoints or watchpoints." in out


def test_set_var_into_code_then_stepi_runs_the_new_instructions(cli, tmp_path):
    status, out, err = debug(cli, tmp_path, "break kernel_thread_helper", "continue",
                             f"set var *(int*){HELPER + 2:#x} = 0xff529090", "x/3i $pc",
                             *["stepi", "info registers eip"] * 3)  # fmt: skip
    assert status == 0, err
    assert re.search(rf"^   {HELPER + 2:#x} <kernel_thread_helper\+2>:\tnop$", out, re.M)
    eips = [int(v, 16) for v in re.findall(r"^eip\s+(0x[0-9a-f]+)", out, re.M)]
    # pushl $0, then each nop: the old movl %edx, %eax (2 bytes) does not run.
    assert eips == [HELPER + 2, HELPER + 3, HELPER + 4]
