"""pytest plugin (registered through the ``pytest11`` entry point).

* ``*.S`` files under the folders of the ``asmtest_paths`` ini option are
  collected: one test item per ``#@ test`` line, run as ``kthreadd-emu
  asmtest`` runs it (``asmtest_budget`` sets the instruction budget).
* Fixtures for tests written in Python: ``kernel``, a booted machine restored
  to a fresh snapshot for each test, and ``asm``, which assembles a routine
  (source text or a path) against every kernel symbol, loads it after the
  kernel text and returns its Image.

The machine is booted once per session, on first use.
"""

import os
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


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix != ".S":
        return None
    roots = [Path(root).resolve() for root in parent.config.getini("asmtest_paths")]
    if any(file_path.resolve().is_relative_to(root) for root in roots):
        return AsmFile.from_parent(parent, path=file_path)
    return None


def _runner(config):
    """The session's runner (and machine), made on first use."""
    from kthreadd_emu.asmtest.runner import Runner

    if _RUNNER not in config.stash:
        budget = config.getini("asmtest_budget")
        try:
            config.stash[_RUNNER] = Runner(int(budget, 0))
        except ValueError:
            raise pytest.UsageError(f"asmtest_budget: not a number: {budget!r}") from None
    return config.stash[_RUNNER]


class AsmFile(pytest.File):
    """A ``.S`` file: one item per test, or one failing item if the file itself
    is broken (a collection error would stop the whole session)."""

    def collect(self):
        from asm.assembler import AsmError
        from kthreadd_emu.asmtest.format import TestFormatError, has_tests, parse_file

        if not has_tests(self.path.read_text(encoding="utf-8")):
            return
        tfile = parse_file(self.path)
        try:
            _runner(self.config).check_file(tfile)
        except (AsmError, TestFormatError) as err:
            yield BrokenFileItem.from_parent(self, name="(file)", error=err)
            return
        for test in tfile.tests:
            yield AsmItem.from_parent(self, name=test.name, tfile=tfile, test=test)


class BrokenFileItem(pytest.Item):
    """Fails with the file's ``file:line: message`` and the offending text."""

    def __init__(self, *, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo):
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, max(self.error.line - 1, 0), f"{self.path.name}: {self.error.message}"


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
            return format_result(excinfo.value.args[0])
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
            filename = filename or os.fspath(source)
            source = Path(source).read_text(encoding="utf-8")
        image = asmtest_machine.assemble(source, filename or "<asm>", kernel.text_end)
        asmtest_machine.load(image)
        return image

    return load
