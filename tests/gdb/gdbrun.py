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

    def gdb(self, *commands, end: str = "detach", autoload: bool = False, before=()) -> str:
        """gdb -batch: connect, run ``commands``, then ``end`` (detach or kill);
        ``autoload``: gdb may run the ELF's own helpers (.debug_gdb_scripts);
        ``before``: commands run before the ELF is read (gdb's -iex)."""
        connect = f"target remote 127.0.0.1:{self.port}"
        return gdb_batch(self.elf, connect, *commands, end, autoload=autoload, before=before)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def gdb_batch(elf, *commands, autoload: bool = False, before=()) -> str:
    """``gdb -nx -batch ELF -ex COMMAND...``: what it printed (stdout, then stderr)."""
    args = [GDB, "-nx", "-batch"]
    for c in before:
        args += ["-iex", c]
    if autoload:
        args += ["-iex", f"add-auto-load-safe-path {elf}"]
    else:  # no warning that the ELF's helpers were not loaded
        args += ["-iex", "set auto-load python-scripts off"]
    args.append(str(elf))
    for c in commands:
        args += ["-ex", c]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


def register(output: str, name: str) -> int:
    """The last value gdb's ``info registers`` showed for ``name``."""
    return int(re.findall(rf"^{name}\s+(0x[0-9a-f]+)", output, re.M)[-1], 16)
