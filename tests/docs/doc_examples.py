"""The examples of the documentation (README.md and docs/*.md), run as written.

A page's fenced blocks that run:

* ```` ```asm ```` whose first line is ``# file: NAME.S``: a file the page's
  sessions use, written into the page's folder before any of them runs;
* ```` ```console ````: a shell session.  ``$ kthreadd-emu ARGS`` is followed by
  what it prints (stdout and stderr, as a terminal shows them).  A debugger
  (``kthreadd-emu debug``, ``asmtest --debug``) goes on with ``(kdb) COMMAND``
  lines, each followed by its output; ``$ kthreadd-emu gdbserver ... &`` starts a
  server, and ``$ gdb ARGS`` goes on with ``(gdb) COMMAND`` lines, run by the real
  gdb (skipped where it is not installed);
* ```` ```python ```` holding ``def test_...(kernel, asm)``: run as a test, with the
  suite's fixtures.

In the output shown, a line ``...`` stands for any number of lines, as doctest's
ELLIPSIS does; nothing else is loose.  What changes from run to run, and only that,
is normalised on both sides: ps's START (the time of day of the boot), a
command's own timing (``in 0.05 s``, ``8000 threads/s``) and the gdb server's
port; and what changes with any edit of the kernel model's Python, which is no
fact of 2.6.32: the line numbers of its ``.py`` files and the addresses of its
functions' thunks (the page at 0xc0200000, one slot per function in the order
they are published).  ``make docs-examples`` rewrites the outputs shown from a real run (keeping
each ``...``), for review with ``git diff``."""

import contextlib
import difflib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
UPDATE = os.environ.get("KTHREADD_EMU_UPDATE_DOCS") == "1"
GDB = shutil.which("gdb")
PROMPTS = ("(kdb) ", "(gdb) ")
ELLIPSIS = "..."
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
_MARK = "@@@docs {}@@@"
_MARKS = re.compile(r"@@@docs (\d+)@@@\n")


@dataclass
class Step:
    """A command (``$ ...`` or a prompt line) and the output shown under it."""

    prompt: str
    command: str
    shown: list[str] = field(default_factory=list)


@dataclass
class Block:
    page: Path
    kind: str
    start: int  # offset of the block's text in the page
    text: str

    @property
    def line(self) -> int:
        return self.page.read_text()[: self.start].count("\n") + 1

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path, kind: str | None = None) -> list[Block]:
    text = page.read_text()
    found = [Block(page, m.group(1), m.start(2), m.group(2)) for m in _FENCE.finditer(text)]
    return [b for b in found if kind is None or b.kind == kind]


def runnable(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.kind in ("console", "python")]


def files(page: Path) -> dict[str, str]:
    """The page's ``# file: NAME`` blocks."""
    out = {}
    for b in blocks(page, "asm"):
        m = re.match(r"# file: (\S+)\n", b.text)
        if m:
            out[m.group(1)] = b.text
    return out


def steps(text: str) -> list[list[Step]]:
    """A console block's sessions: each a ``$`` command and its prompt lines."""
    sessions: list[list[Step]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            sessions.append([Step("$ ", line[2:])])
        elif line.startswith(PROMPTS) and sessions:
            sessions[-1].append(Step(line[:6], line[6:]))
        elif sessions:
            sessions[-1][-1].shown.append(line)
        else:
            raise AssertionError(f"output before the first command: {line!r}")
    return sessions


# -- comparing ------------------------------------------------------------------

_PS_ROW = re.compile(r"^(\S+ +\d+ +\d+\.\d +\d+\.\d +\d+ +\d+ +\S+ +\S+ +)\S+", re.M)
_VARYING = [
    (_PS_ROW, r"\1START"),
    (re.compile(r" in \d+\.\d+ s\b"), " in <t> s"),
    (re.compile(r"\b\d+ threads/s\b"), "<n> threads/s"),
    (re.compile(r"(\.py(?::|, line ))\d+"), r"\1<line>"),
    (re.compile(r"\b((?:0x)?)c02[0-9a-f]{5}\b"), r"\1<thunk>"),
]


def normalised(lines: list[str]) -> list[str]:
    text = "\n".join(lines)
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return [line.rstrip() for line in text.split("\n")] if lines else []


def matches(shown: list[str], seen: list[str]) -> bool:
    """``seen`` is ``shown``, each ``...`` line standing for any lines."""
    shown, seen = normalised(shown), normalised(seen)
    parts = _split_ellipsis(shown)
    if len(parts) == 1:
        return shown == seen
    head, *middle, tail = parts
    if seen[: len(head)] != head or len(seen) < len(head) + len(tail):
        return False
    if tail and seen[len(seen) - len(tail) :] != tail:
        return False
    at, end = len(head), len(seen) - len(tail)
    for part in middle:
        at = _find(seen, part, at, end)
        if at < 0:
            return False
        at += len(part)
    return True


def _split_ellipsis(lines: list[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for line in lines:
        if line.strip() == ELLIPSIS:
            parts.append([])
        else:
            parts[-1].append(line)
    return parts


def _find(seen, part, start, end) -> int:
    for i in range(start, end - len(part) + 1):
        if seen[i : i + len(part)] == part:
            return i
    return -1


def updated(shown: list[str], seen: list[str]) -> list[str]:
    """What ``make docs-examples`` writes: the run's output with the lines each
    ``...`` stood for left out again.  The lines shown before the first ``...`` and
    after the last are as many as before; a part between two is kept where the
    run has its first line, and dropped where it has not."""
    parts = _split_ellipsis(shown)
    if len(parts) == 1:
        return seen
    head, *middle, tail = parts
    out, at = seen[: len(head)], len(head)
    end = len(seen) - len(tail)
    first_lines = normalised(seen)
    for part in middle:
        start = _find(first_lines, normalised(part[:1]), at, end) if part else -1
        if start >= 0:
            out += [ELLIPSIS, *seen[start : start + len(part)]]
            at = start + len(part)
    return out + [ELLIPSIS] + seen[end:]


def difference(step: Step, seen: list[str]) -> str:
    """The change to the page that would make it right (what ``make
    docs-examples`` writes), as a diff under the command."""
    diff = difflib.unified_diff(step.shown, updated(step.shown, seen), "shown", "seen",
                                lineterm="")  # fmt: skip
    return f"{step.prompt}{step.command}\n" + "\n".join(diff)


# -- running ----------------------------------------------------------------------


class NotRunnable(Exception):
    """A console line the suite cannot run as written."""


def run_session(session: list[Step], folder: Path, servers: list) -> list[list[str]]:
    """What each step of ``session`` printed, run in ``folder``."""
    first, typed = session[0], [s.command for s in session[1:]]
    argv = shlex.split(first.command, comments=True)
    if argv[:1] == ["gdb"]:
        return run_gdb(argv[1:], typed, folder, servers)
    if argv[:1] != ["kthreadd-emu"]:
        raise NotRunnable(f"not a command the docs' tests run: {first.command!r}")
    if argv[-1] == "&":
        return [start_server(argv[1:-1], folder, servers)]
    if typed or "debug" in argv or "--debug" in argv or "/dev/stdout" in argv:
        return run_debugger(argv[1:], typed, folder)
    return [run_in_process(argv[1:], folder)]


def run_in_process(args: list[str], folder: Path) -> list[str]:
    from kthreadd_emu.cli import main

    out = io.TextIOWrapper(io.BytesIO(), write_through=True)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            main(args)
    finally:
        os.chdir(cwd)
    return out.buffer.getvalue().decode().splitlines()


def _marked(commands: list[str], echo) -> list[str]:
    """The commands with an ``echo`` of a numbered mark before each and after the
    last, so that the output can be cut into what each printed."""
    lines = [echo(_MARK.format(0))]
    for i, command in enumerate(commands, 1):
        lines += [command, echo(_MARK.format(i))]
    return lines


def _cut(output: str, count: int) -> list[list[str]]:
    """Step 0's output comes before mark 0, step N's after mark N-1; what follows
    the last mark (the session's end) belongs to the last step."""
    pieces = _MARKS.split(output)
    outputs = [pieces[0].splitlines()] + [[] for _ in range(count)]
    for number, text in zip(pieces[1::2], pieces[2::2], strict=True):
        outputs[min(int(number) + 1, count)] += text.splitlines()
    return outputs


def run_debugger(args: list[str], commands: list[str], folder: Path) -> list[list[str]]:
    """``kthreadd-emu ARGS`` in its own process, reading ``commands`` from its
    standard input, as a terminal user typing them would see: the prompt lines
    are not echoed.  (Also a command writing to ``-o /dev/stdout``, the process's.)"""
    stdin = "\n".join(_marked(commands, lambda mark: f"echo {mark}\\n")) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "kthreadd_emu.cli", *args], input=stdin, cwd=folder, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, env=_env(),
    )  # fmt: skip
    return _cut(proc.stdout, len(commands))


def _env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}


class Server:
    """``kthreadd-emu gdbserver ... &``: on a free port, shown as the port asked for."""

    def __init__(self, args: list[str], folder: Path):
        asked = args[args.index("--port") + 1] if "--port" in args else "1234"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kthreadd_emu.cli", *args, "--port", "0"], cwd=folder,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(),
        )  # fmt: skip
        self.line = self.proc.stdout.readline().rstrip("\n")
        self.port = re.search(r":(\d+)$", self.line).group(1)
        self.asked = asked

    def shown(self, text: str) -> str:
        return text.replace(f":{self.port}", f":{self.asked}")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def start_server(args: list[str], folder: Path, servers: list) -> list[str]:
    server = Server(args, folder)
    servers.append(server)
    return [server.shown(server.line)]


def run_gdb(args: list[str], commands: list[str], folder: Path, servers: list) -> list[list[str]]:
    """gdb in -batch mode with ARGS (the server's real port for the one shown) and
    the commands as ``-ex``; ``-nx``: no ~/.gdbinit of the user's."""
    import pytest

    if GDB is None:
        pytest.skip("gdb is not installed (apt-get install gdb)")
    (server,) = servers
    args = [a.replace(f":{server.asked}", f":{server.port}") for a in args]
    argv = [GDB, "-nx", "-batch", *args]
    for line in _marked(commands, lambda mark: f"echo {mark}\\n"):
        argv += ["-ex", line]
    proc = subprocess.run(argv + ["-ex", "detach"], cwd=folder, text=True, timeout=120,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    output = proc.stdout.split("[Inferior 1 (Remote target) detached]")[0]
    return _cut(server.shown(_relative(output, folder)), len(commands))


def _relative(output: str, folder: Path) -> str:
    """Paths as a user in the page's folder of a clone reads them: gdb names the
    sources by the absolute paths the ELF holds (where the clone is)."""
    return output.replace(f"{ROOT}/", "").replace(f"{folder}/", "")


def check_block(block: Block, folder: Path) -> list[str]:
    """Run ``block``'s sessions in ``folder``: the differences (none when it runs
    as written).  With KTHREADD_EMU_UPDATE_DOCS=1 the page is rewritten instead."""
    for name, text in files(block.page).items():
        (folder / name).write_text(text)
    servers: list = []
    problems, rewritten = [], []
    try:
        for session in steps(block.text):
            for step, seen in zip(session, run_session(session, folder, servers), strict=True):
                if not matches(step.shown, seen):
                    problems.append(difference(step, seen))
                    step.shown = updated(step.shown, seen)
            rewritten.append(session)
    finally:
        for server in servers:
            server.stop()
    if problems and UPDATE:
        _rewrite(block, rewritten)
        return []
    return problems


def _rewrite(block: Block, sessions: list[list[Step]]) -> None:
    lines = [line for s in sessions for st in s for line in (st.prompt + st.command, *st.shown)]
    text = block.page.read_text()
    at = text.index(block.text)  # blocks above it may have been rewritten already
    block.page.write_text(text[:at] + "\n".join(lines) + "\n" + text[at + len(block.text) :])
