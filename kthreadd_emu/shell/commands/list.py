"""list: the source around where the selected task is."""

import os

from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import command

MAX_SOURCE = 16 << 20  # a source file `list` reads


@command("list", category="files", aliases=("l",))
def do_list(shell, rest):
    """List the source lines around where the selected task is.
    Usage: list

    The Python line stopped at, or the .S line EIP was assembled from (the
    machine's line table of each loaded image); list again goes on.  A file
    changed since it was loaded is gdb's "Source file is more recent than
    executable." warning."""
    file, line, assembled = source_position(shell)
    first = shell.s.list_next if shell.s.list_at == (file, line) else max(line - 5, 1)
    source = read_source(shell, file, line, assembled)
    if first > len(source):
        raise CommandError(f"Line number {first} out of range; {file} has {len(source)} lines.")
    shown = source[first - 1 : first + 9]
    shell.say(*(f"{first + i}\t{text}" for i, text in enumerate(shown)))
    shell.s.list_at, shell.s.list_next = (file, line), first + len(shown)


def read_source(shell, file: str, line: int, assembled: str | None) -> list[str]:
    """The lines of a source file.  One that no longer has at ``line`` the
    statement assembled from it changed since it was loaded: gdb's warning,
    once per file; one that is not text any more (or not a file) is refused."""
    try:
        if not os.path.isfile(file) or os.path.getsize(file) > MAX_SOURCE:
            raise CommandError(f"{file}: not a regular file of at most {MAX_SOURCE} bytes "
                               "any more (it changed since it was loaded)")  # fmt: skip
        with open(file, "rb") as f:
            data = f.read(MAX_SOURCE + 1)
        source = data.decode("utf-8").splitlines() if b"\0" not in data else None
    except OSError as err:
        raise CommandError(f"{file}: {err.strerror}") from None
    except UnicodeDecodeError:
        source = None
    if source is None:
        raise CommandError(f"{file}: not text any more (it changed since it was loaded)")
    if assembled is not None and file not in shell.s.warned_sources:
        now = source[line - 1] if line <= len(source) else ""
        if "".join(assembled.split()) not in "".join(now.split()):
            shell.s.warned_sources.add(file)
            shell.warn("warning: Source file is more recent than executable.")
    return source


def source_position(shell) -> tuple[str, int, str | None]:
    """(file, line, the statement assembled from it: None for Python)."""
    stop = shell.s.stop
    python = getattr(stop, "python", None)
    if python is not None and getattr(stop, "pid", None) == shell.pid:
        return python[0], python[1], None
    pc = shell.regs()["eip"]
    where = shell.kern.machine.source_line(pc)
    if where is None:
        raise CommandError(f"No source line for {pc:#x} "
                           f"({shell.kern.symbols.describe(pc)}): use disassemble")  # fmt: skip
    return where
