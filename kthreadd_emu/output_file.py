"""Writing an output file where the user points, as ``cp`` and ``gcc -o`` do.

Every command that writes a file (``record -o``, ``elf -o``, ``asm -o``,
``stack --svg``, ``walk --svg``, ``gdbserver --elf``, ``asmtest --junit``, the
debugger's ``record save``) goes through ``write_output``, after an early
``check_output`` where there is work to do first:

* a symlink is followed: its target is written (created, if it dangles);
* our own standard output or error (``-o /dev/stdout``, whatever it is: a
  terminal, a pipe, a file opened with ``>>``) is written through its open
  file, where the shell put it; the command's summary then goes to stderr;
* a FIFO or a character device (``/dev/stdout``, ``/dev/null``, a terminal) is
  written into, never replaced; a FIFO nobody reads is refused, not waited on;
* a regular file is replaced atomically (a temporary file beside it, renamed
  over it): it appears whole or not at all, and keeps its mode and, where we
  may, its owner; a file we may not write is refused, as ``cp`` refuses it;
* a new file is made the same way, with the usual mode (0666 less the umask);
* a folder, a block device or a socket is refused in one line.
"""

import errno
import os
import secrets
import stat
import sys

from kthreadd_emu.errors import UsageError

_TEMP_TRIES = 100


class OutputError(UsageError):
    """An output path that cannot be written (one line: ``cannot write PATH: why``)."""

    def __init__(self, path, why: str):
        super().__init__(f"cannot write {os.fspath(path)}: {why}")


class _Target:
    """What stands at an output path: ``stream`` (our stdout or stderr, ``fd``),
    ``into`` (write into it in place) or ``replace`` (atomic replace at ``real``,
    ``st`` the file there, or None)."""

    def __init__(self, path: str, how: str, real: str | None = None, st=None, fd=None):
        self.path, self.how, self.real, self.st, self.fd = path, how, real, st, fd


_REFUSED = {
    stat.S_IFDIR: "it is a folder",
    stat.S_IFBLK: "it is a block device",
    stat.S_IFSOCK: "it is a socket",
}


def _target(path) -> _Target:
    path = os.fspath(path)
    if not path:
        raise OutputError(path, "an empty file name")
    try:
        st = os.stat(path)  # through every symlink, /proc/self/fd's included
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise OutputError(path, err.strerror) from None
    if st is not None and stat.S_IFMT(st.st_mode) in _REFUSED:
        raise OutputError(path, _REFUSED[stat.S_IFMT(st.st_mode)])
    stream = st and _own_stream(st)
    if stream is not None:
        return _Target(path, "stream", fd=stream)
    if st is not None and not stat.S_ISREG(st.st_mode):
        return _Target(path, "into")  # a FIFO or a character device
    real = os.path.realpath(path)  # a dangling symlink: the file it names
    if st is None and not os.path.isdir(os.path.dirname(real)):
        # Named as the user wrote it, unless a symlink led elsewhere.
        folder = os.path.dirname(real if os.path.islink(path) else path) or "."
        raise OutputError(path, f"folder {folder} does not exist")
    if st is not None and not os.access(real, os.W_OK):
        raise OutputError(path, os.strerror(errno.EACCES))
    return _Target(path, "replace", real, st)


def check_output(path) -> None:
    """Refuse, in one line and before any work, a path ``write_output`` could not
    write.  Where it would create a file, one is created and removed (a read-only
    file system, or root's rights, make permission bits unreliable).  A FIFO is
    not opened: its reader would see the end of the file."""
    target = _target(path)
    if target.how == "stream":
        return
    if target.how == "into":
        if not os.access(target.path, os.W_OK):
            raise OutputError(target.path, os.strerror(errno.EACCES))
        return
    fd, tmp = _temporary_beside(target)
    os.close(fd)
    os.unlink(tmp)


def write_output(path, data: str | bytes) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` as the module's docstring says."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    target = _target(path)
    if target.how == "stream":
        _write_stream(target, data)
    elif target.how == "into":
        _write_into(target.path, data)
    else:
        _replace(target, data)


def writes_a_file(path) -> bool:
    """Whether ``write_output(path, ...)`` leaves a regular file there (not a
    stream, a FIFO or a device): where a companion file may go beside it."""
    return _target(path).how == "replace"


def is_stdout(path) -> bool:
    """Whether ``path`` is this process's standard output (``-o /dev/stdout``)."""
    try:
        return _own_stream(os.stat(path)) == 1
    except OSError:
        return False


def summary_stream(path):
    """Where a command prints its one-line summary: stderr when ``path`` is stdout."""
    return sys.stderr if is_stdout(path) else sys.stdout


def _own_stream(st) -> int | None:
    """1 or 2 if ``st`` is the file our stdout or stderr is open on."""
    for fd in (1, 2):
        try:
            mine = os.fstat(fd)
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (st.st_dev, st.st_ino):
            return fd
    return None


def _write_stream(target: _Target, data: bytes) -> None:
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # what was printed before comes before
    try:
        _write_all(target.fd, data)
    except OSError as err:
        raise OutputError(target.path, err.strerror) from None


def _write_into(path: str, data: bytes) -> None:
    """Into a FIFO or a device, in place.  Opened without waiting (a FIFO with no
    reader, a terminal line with no carrier), then written as usual."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as err:
        why = "a FIFO that no process reads" if err.errno == errno.ENXIO else err.strerror
        raise OutputError(path, why) from None
    try:
        os.set_blocking(fd, True)
        _write_all(fd, data)
    except OSError as err:
        raise OutputError(path, err.strerror) from None
    finally:
        os.close(fd)


def _replace(target: _Target, data: bytes) -> None:
    fd, tmp = _temporary_beside(target)
    try:
        if target.st is not None:
            _keep_mode_and_owner(fd, target.st)
        _write_all(fd, data)
        os.close(fd)
        fd = None
        os.replace(tmp, target.real)
    except BaseException as err:
        if fd is not None:
            os.close(fd)
        os.unlink(tmp)
        if isinstance(err, OSError):
            raise OutputError(target.path, err.strerror) from None
        raise


def _keep_mode_and_owner(fd: int, st) -> None:
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
        except PermissionError:
            pass  # not ours to give away (as cp without -p): the mode is kept


def _temporary_beside(target: _Target) -> tuple[int, str]:
    """A new file in the folder of ``target.real``, made with mode 0666 less the umask."""
    folder, name = os.path.split(target.real)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for _ in range(_TEMP_TRIES):
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as err:
            raise OutputError(target.path, err.strerror) from None
    raise OutputError(target.path, f"no free temporary name in {folder}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
