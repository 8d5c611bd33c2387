"""The shell's input: a prompt_toolkit prompt on a terminal (history, editing,
Tab completion from the command registry), plain lines otherwise."""

import os
import sys
import termios
from contextlib import contextmanager

from kthreadd_emu.shell.registry import completions
from kthreadd_emu.shell.shell import PROMPT


def terminal_lines(shell):
    """Lines from a prompt_toolkit prompt: history, editing, completion of
    commands, their subcommands, symbols and $registers; Ctrl-C drops the line,
    Ctrl-D quits."""
    from prompt_toolkit import PromptSession

    session = PromptSession(completer=completer(shell), complete_while_typing=False)
    while True:
        try:
            with keys_as_input(sys.stdin.fileno()):
                line = session.prompt(PROMPT)
        except KeyboardInterrupt:
            print("Quit", file=shell.err, flush=True)
        except EOFError:
            print("quit", file=shell.out, flush=True)
            return
        else:
            yield line


def completer(shell):
    """prompt_toolkit's view of ``completions``."""
    from prompt_toolkit.completion import Completer, Completion

    class ShellCompleter(Completer):
        def get_completions(self, document, complete_event):
            typed = len(document.get_word_before_cursor(WORD=True))
            for word in completions(shell, document.text_before_cursor):
                yield Completion(word, start_position=-typed)

    return ShellCompleter()


@contextmanager
def keys_as_input(fd: int):
    """Ctrl-C and Ctrl-D are keys for the prompt, not the terminal's SIGINT and
    end-of-file, from before the prompt is shown: prompt_toolkit (on a dumb
    terminal) writes the prompt before it switches the terminal to raw mode,
    and a Ctrl-C typed in between was a signal landing anywhere, a Ctrl-D an
    end-of-file the switch turned into a NUL byte."""
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        saved = None
    if saved is not None:
        raw = [*saved[:6], list(saved[6])]
        raw[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
        raw[6][termios.VMIN], raw[6][termios.VTIME] = 1, 0
        termios.tcsetattr(fd, termios.TCSANOW, raw)
    try:
        yield
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def plain_lines(stream, echo_prompt: bool):
    """Lines read from ``stream`` one byte at a time: nothing is read ahead into a
    buffer, so a checkpoint that takes over the session reads what follows."""
    fd = stream.fileno()
    while True:
        if echo_prompt:
            print(PROMPT, end="", flush=True)
        try:
            line = _read_line(fd)
        except KeyboardInterrupt:
            print("Quit", file=sys.stderr, flush=True)
            continue
        if line is None:
            return
        yield line


def _read_line(fd: int) -> str | None:
    data = bytearray()
    while True:
        byte = os.read(fd, 1)
        if not byte:
            return data.decode(errors="replace") if data else None
        if byte == b"\n":
            return data.decode(errors="replace")
        data += byte
