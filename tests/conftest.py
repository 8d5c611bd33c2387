"""Shared fixtures: a fresh kernel with the demo thread functions, a way to run a
scenario as the boot task, and the command line run in this process."""

import pytest

from kernel_model.consts import CLONE_FILES, CLONE_FS
from kernel_model.process_32 import kernel_thread
from kthreadd_emu.cli import main
from kthreadd_emu.scenario import demo_kernel, run_main


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
def spawn_here():
    """spawn_here(kern, body, name): from inside a running kernel thread, fork a
    Python thread running ``body(kern)`` (Kernel.spawn forks from CPU 0's idle
    task); returns its pid."""

    def spawn(kern, body, name):
        token = max(kern.spawned, default=0) + 1
        kern.spawned[token] = (name, body)
        return kernel_thread(kern, kern.symbols["python_thread"], token, CLONE_FS | CLONE_FILES)

    return spawn
