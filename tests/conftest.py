"""Shared fixtures: a fresh kernel with the demo thread functions, and a way to
run a scenario as the boot task."""

import pytest

from kthreadd_emu.scenario import demo_kernel, run_main


@pytest.fixture
def demo():
    """(kernel, image of asm/demo_threads.S) on a fresh 1-CPU machine."""
    return demo_kernel()


@pytest.fixture
def boot():
    """boot(kern, main) runs main(kern, out) as the boot task; returns out."""
    return run_main
