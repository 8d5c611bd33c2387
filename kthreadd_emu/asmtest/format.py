"""The assembly test file format: an AT&T ``.S`` file whose ``#@`` lines (comments
to the assembler) describe tests of its routines; or a C file whose ``//@`` lines
(comments to the compiler) do, with the same test lines.

    #@ test NAME
    #@ run kthread ROUTINE [arg=EXPR] [name=COMM] [cpu=N] [stop=before|running] [budget=N]
    #@ run kernel_thread ROUTINE [arg=EXPR] [name=COMM] [budget=N]
    #@ run bare ROUTINE [cpu=N] [arg=EXPR] [name=COMM] [budget=N]
    #@ at LABEL: EXPR          (when the thread first reaches LABEL)
    #@ at return: EXPR         (just after the routine's ret)
    #@ expect EXPR             (after the run: memory, exit, ptregs.*)
    #@ expect oops[: TEXT]     (the kernel oopses; its report contains TEXT)
    #@ expect lockup[: TEXT]   (the thread never finishes)
    #@ expect overrun[: TEXT]  (the thread overruns its 8 KiB stack)

Parsing needs no machine: names are resolved when the file is assembled
(kthreadd_emu/asmtest/run.py).  A mistake in one test's lines makes that test
an error and leaves the others alone.
"""

import re
from dataclasses import dataclass, field

from debugger.expr import Expr, ExprError
from kernel_model.cbuild import is_c_file
from kernel_model.consts import NR_CPUS, TASK_COMM_LEN
from kthreadd_emu.errors import MAX_BUDGET, read_file

DIRECTIVE = re.compile(r"^\s*#@(.*)$")
C_DIRECTIVE = re.compile(r"^\s*//@(.*)$")
NAME = re.compile(r"[\w.-]+", re.A)
MODES = {
    "kthread": {"arg", "name", "cpu", "stop", "budget"},
    "kernel_thread": {"arg", "name", "budget"},
    "bare": {"arg", "name", "cpu", "budget"},
}
STOPS = ("before", "running")
OUTCOMES = ("oops", "lockup", "overrun")
DEFAULT_COMM = "asmtest"
MAX_SHOWN = 200  # characters of an offending line a report repeats


class TestFormatError(Exception):
    """A malformed test line: ``file:line: message`` and the line's text, as AsmError."""

    def __init__(self, path: str, line: int, text: str, message: str):
        self.path, self.line, self.text, self.message = path, line, text, message
        shown = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + " ..."
        super().__init__(f"{path}:{line}: {message}" + (f"\n    {shown}" if shown else ""))


@dataclass
class Run:
    mode: str
    routine: str
    line: int
    text: str
    arg: Expr | None = None
    name: str = DEFAULT_COMM
    cpu: int | None = None
    stop: str | None = None
    budget: int | None = None


@dataclass
class Check:
    """One expectation.  ``where`` is a label or "return" for `at`, None for `expect`;
    ``outcome`` is set for `expect oops|lockup|overrun` (``pattern``: text the
    kernel's report of it must contain)."""

    line: int
    text: str
    where: str | None = None
    expr: Expr | None = None
    outcome: str | None = None
    pattern: str = ""


@dataclass
class AsmTest:
    path: str
    name: str
    line: int
    text: str
    run: Run | None = None
    checks: list[Check] = field(default_factory=list)
    error: TestFormatError | None = None


@dataclass
class AsmTestFile:
    path: str
    source: str
    tests: list[AsmTest]
    error: TestFormatError | None = None


def parse_file(path) -> AsmTestFile:
    """A test file, read as the assembler reads sources (AsmError if it cannot be)."""
    return parse_source(read_file(path), str(path))


def has_tests(source: str, path) -> bool:
    """Whether ``source`` has test lines at all (a folder may hold plain sources too)."""
    marker = _marker(path)
    return any(_directive(raw, marker) for raw in source.split("\n"))


def _marker(path):
    return C_DIRECTIVE if is_c_file(path) else DIRECTIVE


def parse_source(source: str, path: str) -> AsmTestFile:
    result = AsmTestFile(path, source, [])
    marker = _marker(path)
    for lineno, raw in enumerate(source.split("\n"), start=1):
        body = _directive(raw, marker)
        if not body:
            continue
        word, _, rest = body.replace("\t", " ").partition(" ")
        if word == "test":
            result.tests.append(_new_test(result, rest.strip(), lineno, raw.strip()))
        elif not result.tests:
            message = "a test line before any '#@ test NAME'"
            result.error = result.error or TestFormatError(path, lineno, raw.strip(), message)
        elif result.tests[-1].error is None:
            try:
                _add(result.tests[-1], word, rest.strip(), lineno, raw.strip())
            except TestFormatError as err:
                result.tests[-1].error = err
    for test in result.tests:
        test.error = test.error or _incomplete(test)
    return result


def _directive(raw: str, marker=DIRECTIVE) -> str | None:
    match = marker.match(raw)
    return match.group(1).strip() if match else None


def _new_test(result: AsmTestFile, name: str, lineno: int, text: str) -> AsmTest:
    """The test a ``#@ test`` line starts; a bad one keeps its lines from the others."""
    test = AsmTest(result.path, name or f"line{lineno}", lineno, text)
    if not NAME.fullmatch(name):
        message = "a test needs a name of letters, digits, '_', '.', '-': '#@ test NAME'"
        test.error = TestFormatError(result.path, lineno, text, message)
    elif any(t.name == name for t in result.tests):
        test.error = TestFormatError(result.path, lineno, text, f"test {name!r} is defined twice")
    return test


def _add(test: AsmTest, word: str, rest: str, lineno: int, text: str) -> None:
    def fail(message):
        return TestFormatError(test.path, lineno, text, message)

    try:
        if word == "run":
            if test.run is not None:
                raise fail(f"test {test.name!r} already has a run line")
            test.run = _parse_run(rest, lineno, text, fail)
        elif word == "at":
            test.checks.append(_parse_at(rest, lineno, text, fail))
        elif word == "expect":
            test.checks.append(_parse_expect(rest, lineno, text, fail))
        else:
            raise fail(f"unknown test line {word!r} (test, run, at, expect)")
    except ExprError as err:
        raise fail(str(err)) from None


def _parse_run(rest: str, lineno: int, text: str, fail) -> Run:
    words = rest.split()
    if len(words) < 2 or words[0] not in MODES:
        raise fail(f"expected 'run MODE ROUTINE [key=value ...]', MODE one of {', '.join(MODES)}")
    run = Run(words[0], words[1], lineno, text)
    for option in words[2:]:
        key, equals, value = option.partition("=")
        if not equals or key not in MODES[run.mode]:
            allowed = ", ".join(sorted(MODES[run.mode]))
            raise fail(f"{option!r}: run {run.mode} takes key=value options {allowed}")
        _set_option(run, key, value, fail)
    return run


def _set_option(run: Run, key: str, value: str, fail) -> None:
    if key == "arg":
        run.arg = Expr(value, check=False)
    elif key == "name":
        size = len(value.encode())
        if not 1 <= size < TASK_COMM_LEN:
            raise fail(
                f"name={value!r}: a task name is 1 to {TASK_COMM_LEN - 1} bytes of UTF-8 "
                f"(task_struct.comm is char[{TASK_COMM_LEN}]), not {size}"
            )
        run.name = value
    elif key == "stop":
        if value not in STOPS:
            raise fail(f"stop={value!r}: expected stop=before or stop=running")
        run.stop = value
    else:
        try:
            number = int(value, 0)
        except ValueError:
            raise fail(f"{key}={value!r}: not a number") from None
        low, high = (1, MAX_BUDGET) if key == "budget" else (0, NR_CPUS - 1)
        if not low <= number <= high:
            raise fail(f"{key}={value!r}: must be between {low} and {high}")
        setattr(run, key, number)


def _parse_at(rest: str, lineno: int, text: str, fail) -> Check:
    where, colon, expr = rest.partition(":")
    where = where.strip()
    if not colon or not NAME.fullmatch(where) or not expr.strip():
        raise fail("expected 'at LABEL: EXPR' or 'at return: EXPR'")
    return Check(lineno, text, where=where, expr=Expr(expr))


def _parse_expect(rest: str, lineno: int, text: str, fail) -> Check:
    word, _, pattern = rest.partition(":")
    if word.strip() in OUTCOMES:
        return Check(lineno, text, outcome=word.strip(), pattern=pattern.strip())
    if not rest:
        raise fail("expected 'expect EXPR' or 'expect oops|lockup|overrun[: TEXT]'")
    return Check(lineno, text, expr=Expr(rest))


def _incomplete(test: AsmTest) -> TestFormatError | None:
    def fail(message):
        return TestFormatError(test.path, test.line, test.text, message)

    if test.run is None:
        return fail(f"test {test.name!r} has no '#@ run' line")
    if not test.checks:
        return fail(f"test {test.name!r} checks nothing (add '#@ at' or '#@ expect' lines)")
    kinds = sorted({c.outcome for c in test.checks if c.outcome})
    if len(kinds) > 1:
        return fail(f"test {test.name!r} expects both {kinds[0]} and {kinds[1]}")
    return None
