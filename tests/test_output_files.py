"""Every command that writes a file writes where the user points, as ``cp`` and
``gcc -o`` do: through a symlink, into a FIFO or a device (never replacing it),
keeping an existing file's mode, new files with the umask's mode, atomically
only for a regular file or a new path; anything else is one line.  Each kind
of path, for each writer, run as a person runs it."""

import os
import re
import select
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

SOURCE = "\t.globl echo\necho:\n\tmovl %eax, %ecx\n\tret\n"
ASMTEST = (
    "\t.globl five\nfive:\n\tmovl $5, %eax\n\tret\n"
    "#@ test five\n#@ run kthread five\n#@ expect exit == 5\n"
)
TIMEOUT = 60


def _files(tmp_path):
    (tmp_path / "echo.S").write_text(SOURCE)
    (tmp_path / "five.S").write_text(ASMTEST)


def run_gdbserver(tmp_path, path):
    """`gdbserver --elf PATH`: it writes the ELF before it listens; stopped then."""
    cmd = [sys.executable, "-m", "kthreadd_emu.cli", "gdbserver", "--port", "0", "--cpus", "1"]
    proc = subprocess.Popen(
        [*cmd, "--elf", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
    finally:
        proc.kill()
        out, err = proc.communicate(timeout=TIMEOUT)
    status = 0 if line.startswith("gdbserver: ") else proc.returncode
    return status, line + out, err


def run_debugger(cli, tmp_path, path):
    script = tmp_path / "save.gdb"
    script.write_text(f"record start\nrecord stop\nrecord save {path}\n")
    return cli("debug", "--cpus", "1", "--batch", "-x", script)


# What each writer runs, given the output path.
WRITERS = {
    "record -o": lambda cli, d, p: cli("record", "--cpus", "1", "-o", p),
    "elf -o": lambda cli, d, p: cli("elf", "--cpus", "1", "-o", p),
    "asm -o": lambda cli, d, p: cli("asm", d / "echo.S", "-o", p),
    "stack --svg": lambda cli, d, p: cli("stack", "--pid", "2", "--cpus", "1", "--svg", p),
    "walk --svg": lambda cli, d, p: cli("walk", "--svg", p),
    "asmtest --junit": lambda cli, d, p: cli("asmtest", d / "five.S", "-q", "--junit", p),
    "gdbserver --elf": lambda cli, d, p: run_gdbserver(d, p),
    "debug: record save": lambda cli, d, p: run_debugger(cli, d, p),
}


@pytest.fixture(params=list(WRITERS))
def write(request, tmp_path, cli):
    """write(path) runs the writer: (status, stdout, stderr)."""
    _files(tmp_path)
    writer = WRITERS[request.param]
    return lambda path: writer(cli, tmp_path, path)


def one_line(err: str, text: str) -> None:
    assert len(err.strip().splitlines()) == 1 and text in err, err


def leftovers(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


class FifoReader:
    """The reading end of a FIFO, drained by a thread until the writer closes."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.data = bytearray()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if not select.select([self.fd], [], [], 0.05)[0]:
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return  # the writer has closed it
            self.data += chunk

    def result(self) -> bytes:
        self.thread.join(TIMEOUT)
        os.close(self.fd)
        return bytes(self.data)


@pytest.fixture
def umask():
    old = os.umask(0o027)
    yield 0o027
    os.umask(old)


def test_a_new_file_gets_the_umask_mode(write, tmp_path, umask):
    path = tmp_path / "out"
    status, _, err = write(path)
    assert status == 0, err
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert path.stat().st_size > 0 and leftovers(tmp_path) == []


def test_an_existing_file_keeps_its_mode_and_owner(write, tmp_path):
    path = tmp_path / "out"
    path.write_text("old")
    path.chmod(0o604)
    owner = (1234, 1234) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    os.chown(path, *owner)
    status, _, err = write(path)
    assert status == 0, err
    assert stat.S_IMODE(path.stat().st_mode) == 0o604 and path.read_bytes() != b"old"
    assert (path.stat().st_uid, path.stat().st_gid) == owner and leftovers(tmp_path) == []


def test_a_symlink_is_followed_to_its_target(write, tmp_path):
    target, link = tmp_path / "target", tmp_path / "link"
    target.write_text("old")
    target.chmod(0o640)
    link.symlink_to(target)
    status, _, err = write(link)
    assert status == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"old" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_dangling_symlink_creates_its_target(write, tmp_path):
    target, link = tmp_path / "target", tmp_path / "link"
    link.symlink_to(target)
    status, _, err = write(link)
    assert status == 0, err
    assert link.is_symlink() and target.is_file() and target.stat().st_size > 0


def test_a_fifo_is_written_into_not_replaced(write, tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    reader = FifoReader(path)
    status, _, err = write(path)
    data = reader.result()
    assert status == 0, err
    assert stat.S_ISFIFO(os.lstat(path).st_mode) and len(data) > 0


def test_a_fifo_nobody_reads_is_one_line(write, tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    status, _, err = write(path)
    assert status == 1
    one_line(err, f"cannot write {path}: a FIFO that no process reads")
    assert stat.S_ISFIFO(os.lstat(path).st_mode)


def test_a_symlink_to_dev_null_stays_a_symlink_to_a_device(write, tmp_path):
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    status, _, err = write(link)
    assert status == 0, err
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dev_null_stays_a_character_device(write):
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    status, _, err = write("/dev/null")
    assert status == 0, err
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_dev_full_is_one_line_and_stays_a_device(write):
    status, _, err = write("/dev/full")
    assert status == 1
    one_line(err, "cannot write /dev/full: No space left on device")
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


def test_a_folder_is_one_line(write, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    status, _, err = write(folder)
    assert status == 1
    assert re.search(r"is a (folder|directory)|not a file name", err) and len(err.splitlines()) == 1
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_a_socket_is_one_line(write, tmp_path):
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        status, _, err = write(path)
    assert status == 1
    one_line(err, f"cannot write {path}: it is a socket")
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_a_missing_folder_is_one_line(write, tmp_path):
    path = tmp_path / "nowhere" / "out"
    status, _, err = write(path)
    assert status == 1
    one_line(err, f"cannot write {path}: folder {path.parent} does not exist")
    assert not path.parent.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file, as cp may")
def test_a_file_we_may_not_write_is_one_line_and_untouched(write, tmp_path):
    path = tmp_path / "out"
    path.write_text("old")
    path.chmod(0o444)
    status, _, err = write(path)
    assert status == 1
    one_line(err, f"cannot write {path}: Permission denied")
    assert path.read_text() == "old" and leftovers(tmp_path) == []


def test_stdout_is_written_through_the_shells_file_and_summary_goes_to_stderr(tmp_path):
    """`record -o /dev/stdout >> FILE`: appended where the shell opened FILE.  The
    path is a symlink of ours to what /dev/stdout names, /proc/self/fd/1."""
    out, link = tmp_path / "out.txt", tmp_path / "stdout"
    out.write_text("before\n")
    link.symlink_to("/proc/self/fd/1")
    cmd = [sys.executable, "-m", "kthreadd_emu.cli", "record", "--cpus", "1", "-o", str(link)]
    with open(out, "a") as stdout:
        proc = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("before\n# tracer: nop\n") and "events of the boot" not in text
    assert "events of the boot" in proc.stderr and link.is_symlink()
