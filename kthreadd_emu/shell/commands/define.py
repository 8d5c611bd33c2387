"""define: a user command, its body up to the matching ``end``."""

from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import COMMANDS, command


@command("define", category="support")
def do_define(shell, rest):
    """Define a new command name.  Command name is argument.
    Usage: define NAME
           ... its lines ...
           end

    In the body $arg0, $arg1, ... are the arguments NAME is given, $argc their
    number.  Its lines run as a sourced file's do; user commands calling user
    commands stop past 1024 deep, gdb's "Max user call depth exceeded"."""
    name = rest.strip()
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise CommandError("define: a command name is required")
    if COMMANDS.resolve(name, strict=True):
        raise CommandError(f"define: {name} is a built-in command")
    frame = shell.lines.frame
    if frame is None and shell.apply_depth:
        raise CommandError("define: its body would be the lines after thread apply")
    body, nested = [], 0
    while (line := body_line(shell, frame)) is not None:
        word = line.split(None, 1)[0] if line.strip() else ""
        if word == "end" and not nested:
            shell.s.defines[name] = body
            return
        nested += (word == "define") - (word == "end")
        body.append(line)
    raise CommandError(f"define {name}: the input ended before `end'")


def body_line(shell, frame) -> str | None:
    """The body's next line: from where the ``define`` line came from (a sourced
    file, a user command, the -x files or the terminal)."""
    if frame is not None:
        return frame.next_line(raw=True)
    try:
        return shell.lines.typed()
    except StopIteration:
        return None
