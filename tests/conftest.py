"""Shared fixtures: a fresh kernel with the demo thread functions, a way to run a
scenario as the boot task, and the command line run in this process."""

import os
import subprocess
import sys

import pytest

from kernel_model.consts import CLONE_FILES, CLONE_FS
from kernel_model.process_32 import kernel_thread
from kthreadd_emu.cli import main
from kthreadd_emu.scenario import demo_kernel, run_main


@pytest.fixture(scope="session", autouse=True)
def compile_cache(tmp_path_factory):
    """C files compile into a cache of the session's own, not the user's ~/.cache
    (subprocesses inherit it)."""
    folder = tmp_path_factory.mktemp("kthreadd-emu-cache")
    os.environ["KTHREADD_EMU_CACHE"] = str(folder)
    return folder


@pytest.fixture
def demo():
    """(kernel, image of asm/demo_threads.S) on a fresh 1-CPU machine."""
    return demo_kernel()


@pytest.fixture
def boot():
    """boot(kern, main) runs main(kern, out) as the boot task; returns out."""
    return run_main


@pytest.fixture
def cli(capsys):
    """cli(*argv) runs `kthreadd-emu ARGV` in this process: (status, stdout, stderr)."""

    def run(*argv):
        status = main([str(arg) for arg in argv])
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture
def batch(tmp_path, capsys):
    """batch(*commands, argv=()) runs `kthreadd-emu debug --cpus 3 -x FILE --batch`
    in this process, FILE holding the commands after `set context off`:
    (status, stdout, stderr).  (No going back here: that forks; see debug_process.)"""

    def run(*commands, argv=()):
        script = tmp_path / "cmds.gdb"
        script.write_text("set context off\n" + "\n".join(commands) + "\n")
        status = main(["debug", "--cpus", "3", "-x", str(script), "--batch", *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err and "internal error" not in out + err
        return status, out, err

    return run


@pytest.fixture
def debug_process(tmp_path):
    """debug_process(*commands, argv=(...), timeout=60): the same in its own process
    (going back forks the session), killed after ``timeout`` seconds."""

    def run(*commands, argv=("--cpus", "3"), timeout=60):
        script = tmp_path / "cmds.gdb"
        script.write_text("set context off\n" + "\n".join(commands) + "\n")
        argv = [sys.executable, "-m", "kthreadd_emu.cli", "debug", *argv]
        proc = subprocess.run([*argv, "-x", str(script), "--batch"], capture_output=True,
                              text=True, timeout=timeout)  # fmt: skip
        assert "Traceback" not in proc.stdout + proc.stderr
        assert "internal error" not in proc.stdout + proc.stderr
        return proc.returncode, proc.stdout, proc.stderr

    return run


@pytest.fixture
def spawn_here():
    """spawn_here(kern, body, name): from inside a running kernel thread, fork a
    Python thread running ``body(kern)`` (Kernel.spawn forks from CPU 0's idle
    task); returns its pid."""

    def spawn(kern, body, name):
        token = max(kern.spawned, default=0) + 1
        kern.spawned[token] = (name, body)
        return kernel_thread(kern, kern.symbols["python_thread"], token, CLONE_FS | CLONE_FILES)

    return spawn
