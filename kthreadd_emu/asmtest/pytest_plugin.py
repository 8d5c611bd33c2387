"""pytest plugin (registered through the ``pytest11`` entry point).

* ``*.S`` and ``*.c`` files are collected (one test item per ``#@ test`` or
  ``//@ test`` line, run as ``kthreadd-emu asmtest`` runs it; ``asmtest_budget``
  sets the instruction budget, ``asmtest_cflags`` the C files' compiler flags):
  those named on the command line, those under the folders of the
  ``asmtest_paths`` ini option, and, when that option is not set, every such
  file with test lines that pytest's own search finds under the rootdir.  A file
  that cannot be read, compiled or assembled is one failing item; a C file on a
  machine with no C compiler for i386 is one skipped item, with the reason.
* Fixtures for tests written in Python: ``kernel``, a booted machine restored
  to a fresh snapshot for each test, and ``asm``, which assembles a routine
  (source text or a path) against every kernel symbol, loads it after the
  kernel text and returns its Image.

The machine is booted once per session, on first use.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

_RUNNER = pytest.StashKey[object]()


def pytest_addoption(parser) -> None:
    parser.addini(
        "asmtest_paths",
        type="paths",
        default=[],
        help="folders whose *.S assembly tests to collect",
    )
    parser.addini("asmtest_budget", default="1000000", help="instruction budget per assembly test")
    parser.addini("asmtest_cflags", default="", help="compiler flags for C tests (default -O2)")


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix not in (".S", ".c"):
        return None
    config, path = parent.config, file_path.resolve()
    roots = [Path(root).resolve() for root in config.getini("asmtest_paths")]
    if path in _named(config) or any(path.is_relative_to(root) for root in roots):
        return AsmFile.from_parent(parent, path=file_path)
    if not roots and _has_test_lines(file_path):
        return AsmFile.from_parent(parent, path=file_path)
    return None


def _named(config) -> set[Path]:
    """The files named on the command line (``pytest first.S``, ``first.S::name``)."""
    here = config.invocation_params.dir
    return {(here / arg.split("::")[0]).resolve() for arg in config.args}


def _shown(config, path: Path) -> str:
    """A path as reports show it: relative to the rootdir when under it."""
    try:
        return str(path.relative_to(config.rootpath))
    except ValueError:
        return str(path)


def _has_test_lines(path: Path) -> bool:
    """Whether a file found by pytest's search is an assembly test file; one that
    cannot be read is collected, to fail with the reason."""
    from asm.assembler import AsmError
    from kthreadd_emu.asmtest.format import has_tests
    from kthreadd_emu.errors import read_file

    try:
        return has_tests(read_file(path), path)
    except AsmError:
        return True


def _runner(config):
    """The session's runner (and machine), made on first use."""
    from kernel_model.cbuild import CompileError, parse_cflags
    from kthreadd_emu.asmtest.runner import Runner

    if _RUNNER not in config.stash:
        budget = config.getini("asmtest_budget")
        try:
            cflags = parse_cflags(config.getini("asmtest_cflags"))
            config.stash[_RUNNER] = Runner(int(budget, 0), cflags=cflags)
        except ValueError:
            raise pytest.UsageError(f"asmtest_budget: not a number: {budget!r}") from None
        except CompileError as err:
            raise pytest.UsageError(f"asmtest_cflags: {err}") from None
    return config.stash[_RUNNER]


class AsmFile(pytest.File):
    """A ``.S`` file: one item per test, or one failing item if the file itself
    is broken (a collection error would stop the whole session)."""

    def collect(self):
        from asm.assembler import AsmError
        from kernel_model.cbuild import CompileError, NoCompiler
        from kthreadd_emu.asmtest.format import TestFormatError, has_tests, parse_source
        from kthreadd_emu.errors import read_file

        name = _shown(self.config, self.path)
        try:
            source = read_file(self.path, name)
            # A plain source beside the tests is not a test file, unless named.
            if not has_tests(source, name) and self.path.resolve() not in _named(self.config):
                return
            tfile = parse_source(source, name)
            _runner(self.config).check_file(tfile)
        except NoCompiler as err:
            yield SkippedFileItem.from_parent(self, name="(file)", reason=str(err))
            return
        except (AsmError, TestFormatError, CompileError) as err:
            yield BrokenFileItem.from_parent(self, name="(file)", error=err)
            return
        for test in tfile.tests:
            yield AsmItem.from_parent(self, name=test.name, tfile=tfile, test=test)


class SkippedFileItem(pytest.Item):
    """A C test file on a machine without a C compiler for i386: skipped, saying why."""

    def __init__(self, *, reason, **kwargs):
        super().__init__(**kwargs)
        self.reason = reason

    def runtest(self) -> None:
        pytest.skip(self.reason)

    def reportinfo(self):
        return self.path, 0, f"{self.path.name}: skipped"


class BrokenFileItem(pytest.Item):
    """Fails with the file's ``file:line: message`` and the offending text."""

    def __init__(self, *, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo):
        text = str(excinfo.value)
        return _Failure(text, _Crash(str(self.path), self.error.line, text.split("\n")[0]))

    def reportinfo(self):
        return self.path, max(self.error.line - 1, 0), f"{self.path.name}: {self.error.message}"


@dataclass
class _Crash:
    """What pytest's short summary (``FAILED id - message``) and JUnit XML read
    (the fields of pytest's ReprFileLocation)."""

    path: str
    lineno: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.message}"


class _Failure:
    """A failure report: the whole text in the report, one line in the summary."""

    def __init__(self, text: str, crash: _Crash):
        self.text, self.reprcrash = text, crash

    def toterminal(self, tw) -> None:
        for line in self.text.split("\n"):
            tw.line(line)

    def __str__(self) -> str:
        return self.text


class AsmTestFailed(Exception):
    """An assembly test that did not pass; carries its result for the report."""


class AsmItem(pytest.Item):
    def __init__(self, *, tfile, test, **kwargs):
        super().__init__(**kwargs)
        self.tfile, self.test = tfile, test

    def runtest(self) -> None:
        result = _runner(self.config).run_test(self.tfile, self.test)
        if result.status != "pass":
            raise AsmTestFailed(result)

    def repr_failure(self, excinfo):
        from kthreadd_emu.asmtest.runner import format_result

        if isinstance(excinfo.value, AsmTestFailed):
            result = excinfo.value.args[0]
            # The summary line: the first failed expectation and what was seen.
            message = ": ".join(line.strip() for line in result.lines[:2]) or result.status
            return _Failure(format_result(result), _Crash(result.path, result.line, message))
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.test.line - 1, f"{self.path.name}::{self.name}"


@pytest.fixture(scope="session")
def asmtest_machine(request):
    """The session's booted machine (kthreadd_emu.asmtest.machine.TestMachine)."""
    return _runner(request.config).machine


@pytest.fixture
def kernel(asmtest_machine):
    """A booted 3-CPU kernel, restored to the same fresh snapshot for each test."""
    return asmtest_machine.fresh()


@pytest.fixture
def asm(kernel, asmtest_machine):
    """``asm(source_or_path, filename=None)``: assemble, load after the kernel text,
    return the Image (``.symbols`` has every label's address)."""

    def load(source, filename: str | None = None):
        if isinstance(source, os.PathLike):
            from kthreadd_emu.errors import read_file

            filename = filename or os.fspath(source)
            source = read_file(source)
        image = asmtest_machine.assemble(source, filename or "<asm>", kernel.text_end)
        asmtest_machine.load(image)
        return image

    return load
