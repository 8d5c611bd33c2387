"""Shared fixtures: a fresh kernel with the demo thread functions, a way to run a
scenario as the boot task, and the command line run in this process."""

import pytest

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
