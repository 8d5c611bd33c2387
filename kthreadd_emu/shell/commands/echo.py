"""echo: text, with C's escapes."""

import re

from kthreadd_emu.shell.registry import command

_ECHO_ESCAPES = {"a": 7, "b": 8, "e": 27, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_ECHO_TOKEN = re.compile(r"\\([0-7]{1,3}|.?)|[^\\]+", re.S)


@command("echo", category="support")
def do_echo(shell, rest):
    """Print a constant string.  Give string as argument.
    Usage: echo TEXT

    C escape sequences may be used in the argument (\\n for a newline, which
    echo does not add; octal \\303\\251 as bytes); UTF-8 as typed."""
    shell.out.write(echo_text(rest))
    shell.out.flush()


def echo_text(text: str) -> str:
    """gdb's echo: C escapes (``\\n``, ``\\t``, octal ``\\303\\251`` as bytes), any
    other character as itself, a backslash at the end dropped; UTF-8 as typed."""
    out = bytearray()
    for m in _ECHO_TOKEN.finditer(text):
        escape = m.group(1)
        if escape is None:
            out += m.group(0).encode()
        elif escape[:1] in tuple("01234567"):
            out.append(int(escape, 8) & 0xFF)
        else:
            out += bytes([_ECHO_ESCAPES[escape]]) if escape in _ECHO_ESCAPES else escape.encode()
    return out.decode(errors="replace")
