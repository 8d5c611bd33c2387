"""The real gdb in -batch mode against `kthreadd-emu gdbserver` on a free port of
127.0.0.1 (the tests using it skip, with the reason, where gdb is missing)."""

import re
import shutil
import subprocess
import sys

import pytest

GDB = shutil.which("gdb")
needs_gdb = pytest.mark.skipif(GDB is None, reason="gdb is not installed (apt-get install gdb)")


class Server:
    """`kthreadd-emu gdbserver --port 0 ARGS...` and the ELF it wrote."""

    def __init__(self, elf, *args):
        self.elf = elf
        cmd = [sys.executable, "-m", "kthreadd_emu.cli", "gdbserver", "--port", "0"]
        self.proc = subprocess.Popen(
            [*cmd, *args, "--elf", str(elf)], stdout=subprocess.PIPE, text=True
        )
        line = self.proc.stdout.readline()
        self.port = int(re.search(r":(\d+)$", line.strip()).group(1))

    def gdb(self, *commands, end: str = "detach") -> str:
        """gdb -batch: connect, run ``commands``, then ``end`` (detach or kill)."""
        args = [GDB, "-nx", "-batch", str(self.elf), "-ex", f"target remote 127.0.0.1:{self.port}"]
        for c in (*commands, end):
            args += ["-ex", c]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
        return proc.stdout + proc.stderr

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def register(output: str, name: str) -> int:
    """The last value gdb's ``info registers`` showed for ``name``."""
    return int(re.findall(rf"^{name}\s+(0x[0-9a-f]+)", output, re.M)[-1], 16)
