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


def test_set_var_into_code_then_stepi_runs_the_new_instructions(cli, tmp_path):
    status, out, err = debug(cli, tmp_path, "break kernel_thread_helper", "continue",
                             f"set var *(int*){HELPER + 2:#x} = 0xff529090", "x/3i $pc",
                             *["stepi", "info registers eip"] * 3)  # fmt: skip
    assert status == 0, err
    assert re.search(rf"^   {HELPER + 2:#x} <kernel_thread_helper\+2>:\tnop$", out, re.M)
    eips = [int(v, 16) for v in re.findall(r"^eip\s+(0x[0-9a-f]+)", out, re.M)]
    # pushl $0, then each nop: the old movl %edx, %eax (2 bytes) does not run.
    assert eips == [HELPER + 2, HELPER + 3, HELPER + 4]
