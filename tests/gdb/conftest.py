"""Fixtures of the gdb tests."""

import pytest
from gdbrun import Server


@pytest.fixture(scope="module")
def booted(tmp_path_factory):
    """`kthreadd-emu gdbserver --cpus 3 --booted` (one per test module)."""
    srv = Server(tmp_path_factory.mktemp("gdb") / "kernel.elf", "--cpus", "3", "--booted")
    yield srv
    srv.stop()
