"""The command line as a person runs it: a real process, exit codes, no traceback."""

import subprocess
import sys


def run(*args):
    cmd = [sys.executable, "-m", "kthreadd_emu.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_walk_in_a_real_process():
    proc = run("walk")
    assert proc.returncode == 0 and proc.stdout.rstrip().endswith("exit code: 42 (0x2a)")


def test_no_command_is_a_usage_error():
    proc = run()
    assert proc.returncode == 1 and proc.stderr == (
        "kthreadd-emu: a command is required: "
        "walk, ps, ptregs, stack, record, debug, gdbserver, elf, asm, asmtest, stress, bench\n"
    )


def test_spin_stops_at_budget_with_exit_status_1():
    proc = run("walk", "--fn", "spin", "--budget", "20000")
    assert proc.returncode == 1
    assert "soft lockup" in proc.stderr and "Traceback" not in proc.stderr


def test_a_command_imports_only_what_it_needs():
    """Cold start: `ps` does not pay for the assembler tests, the debugger's shell
    (its commands and prompt), the gdb stub or the SVG library (the other
    commands' modules)."""
    code = (
        "import sys; from kthreadd_emu.cli import build_parser; build_parser(['ps']); "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('kthreadd_emu.commands.', "
        "'prompt_toolkit', 'drawsvg', 'gdbstub', 'kthreadd_emu.asmtest', 'kthreadd_emu.shell')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["kthreadd_emu.commands.ps"]
