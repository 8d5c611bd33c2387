"""source: run a command file."""

from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import command
from kthreadd_emu.shell.script import Frame, read_script

MAX_SOURCE_DEPTH = 16  # files sourcing files (gdb has no bound: it runs out of descriptors)


@command("source", category="support")
def do_source(shell, rest):
    """Read commands from a file named FILE.
    Usage: source FILE

    Its lines run each after the last has finished, as gdb runs them: a command
    that resumes the machine goes back to it, and the rest runs at the next stop.
    An error ends the file, and the files that sourced it."""
    path = rest.strip()
    if not path:
        raise CommandError("source command requires file name of file to source.")
    if sum(f.kind == "source" for f in shell.lines.frames) >= MAX_SOURCE_DEPTH:
        raise CommandError(f"{path}: sourced more than {MAX_SOURCE_DEPTH} files deep")
    shell.lines.frames.append(Frame("source", path, read_script(path)))
