"""Assembly tests: AT&T routines run as kernel thread functions (or bare code on a
CPU) of a booted 2.6.32 machine, with expectations on what they saw.

The format is described in asmtest/format.py and in docs/asmtest.md; this
module finds test files, runs them one test at a time on a
machine restored to the same snapshot, and reports (text and JUnit XML).
A failing test is run a second time, identically, with every instruction of
its thread recorded, to show the last ones it executed.
"""

import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from asm.assembler import AsmError
from kernel_model.cbuild import CompileError, NoCompiler
from kthreadd_emu.asmtest.format import (
    AsmTest,
    AsmTestFile,
    TestFormatError,
    has_tests,
    parse_file,
    parse_source,
)
from kthreadd_emu.asmtest.judge import last_instructions, verdict
from kthreadd_emu.asmtest.machine import TestMachine
from kthreadd_emu.asmtest.plan import make_plan
from kthreadd_emu.asmtest.run import Execution
from kthreadd_emu.errors import UsageError, read_file
from kthreadd_emu.output_file import write_output

DEFAULT_BUDGET = 1_000_000
FILE_ERROR = "(file)"
RUN_LINE_TEST = "kthreadd_emu_run"


def plan_run_line(paths, run_line: str, ncpus: int, machine=None, cflags: tuple[str, ...] = ()):
    """``--load FILE... --run LINE`` (record, debug, gdbserver): the run line becomes
    a test of its own (a test needs one check; this one always holds), planned on
    the test machine with the files loaded in order.  Returns (machine, plan);
    UsageError if bad."""
    if "\n" in run_line:
        raise UsageError("--run: one run line, without newlines")
    test = parse_source(f"#@ test {RUN_LINE_TEST}\n#@ run {run_line}\n#@ expect 0 == 0\n",
                        "--run").tests[0]  # fmt: skip
    try:
        if test.error is not None:
            raise test.error
        machine = machine or TestMachine(ncpus)
        images = machine.assemble_files(paths, cflags)
        return machine, make_plan(machine, test, images, machine.names(images))
    except TestFormatError as err:
        raise UsageError(f"--run: {err.message}") from None


@dataclass
class Result:
    path: str
    name: str
    line: int
    status: str  # "pass", "fail", "error" or "skip" (a C file with no compiler for it)
    lines: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    seconds: float = 0.0


def discover(paths) -> list[Path]:
    """Test files: each file named, and every ``*.S`` and ``*.c`` with tests under each
    folder named."""
    found = []
    for spec in paths:
        path = Path(spec)
        if not spec:
            raise UsageError("an empty path")
        if path.is_dir():
            candidates = sorted([*path.rglob("*.S"), *path.rglob("*.c")])
            found += [p for p in candidates if not p.is_dir() and _has_tests(p)]
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{spec}: no such file or folder")
    return found


def _has_tests(path: Path) -> bool:
    try:
        return has_tests(read_file(path), path)
    except AsmError:
        return True  # the run reports why it cannot be read


class Runner:
    """Runs tests on one machine (booted on first use)."""

    def __init__(
        self,
        budget: int = DEFAULT_BUDGET,
        machine: TestMachine | None = None,
        cflags: tuple[str, ...] = (),
    ):
        self.budget, self.cflags = budget, cflags
        self._machine = machine
        self._names: dict[int, dict] = {}  # id(image) -> names; the machine keeps each image
        self._plans: dict[tuple, object] = {}

    @property
    def machine(self) -> TestMachine:
        if self._machine is None:
            self._machine = TestMachine()
        return self._machine

    def run_path(self, path) -> list[Result]:
        """Every test of one file; a file that cannot be read or assembled is one error."""
        try:
            tfile = parse_file(path)
            self.check_file(tfile)
        except NoCompiler as err:
            return [Result(str(path), FILE_ERROR, 0, "skip", [str(err)])]
        except (AsmError, TestFormatError, CompileError) as err:
            line = getattr(err, "line", 0)
            return [Result(str(path), FILE_ERROR, line, "error", str(err).split("\n"))]
        return [self.run_test(tfile, test) for test in tfile.tests]

    def check_file(self, tfile: AsmTestFile) -> None:
        """Raise the file's own error: a line outside any test, no tests, or bad assembly."""
        if tfile.error is not None:
            raise tfile.error
        if not tfile.tests:
            first = tfile.source.split("\n", 1)[0].strip()
            raise TestFormatError(tfile.path, 1, first, "no tests: add '#@ test NAME' lines")
        self.image_of(tfile)

    def image_of(self, tfile: AsmTestFile):
        """The test file's image (a C file compiled with the runner's flags)."""
        return self.machine.assemble(tfile.source, tfile.path, cflags=self.cflags)

    def run_test(self, tfile: AsmTestFile, test: AsmTest) -> Result:
        start = time.perf_counter()
        result = Result(tfile.path, test.name, test.line, "error")
        try:
            if test.error is not None:
                raise test.error
            plan = self.plan_for(tfile, test)
        except (AsmError, TestFormatError) as err:
            result.lines = str(err).split("\n")
        else:
            run = Execution(self.machine, plan, self.budget)
            run.execute()
            judged = verdict(run)
            result.status, result.lines = judged.status, judged.lines
            if judged.status == "fail":
                result.trace = self._trace(plan)
        result.seconds = time.perf_counter() - start
        return result

    def plan_for(self, tfile: AsmTestFile, test: AsmTest):
        machine = self.machine
        image = self.image_of(tfile)
        key = (id(image), test.name, test.line)
        if key not in self._plans:
            names = self._names.get(id(image))
            if names is None:
                names = self._names[id(image)] = machine.names((image,))
            self._plans[key] = make_plan(machine, test, (image,), names)
        return self._plans[key]

    def _trace(self, plan) -> list[str]:
        """The same run again (the snapshot makes it identical), recording instructions."""
        run = Execution(self.machine, plan, self.budget, trace=True)
        run.execute()
        return last_instructions(run)


def format_result(result: Result) -> str:
    label = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skip": "SKIP"}[result.status]
    lines = [f"{label} {result.path}::{result.name}"]
    lines += ["  " + line for line in result.lines]
    if result.trace:
        lines.append("  last instructions of the thread:")
        lines += ["    " + line for line in result.trace]
    return "\n".join(lines)


def summary(results: list[Result], seconds: float) -> str:
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "skip")}
    errors = len(results) - sum(counts.values())
    skipped = f", {counts['skip']} skipped" if counts["skip"] else ""
    return (
        f"{counts['pass']} passed, {counts['fail']} failed, {errors} "
        f"error{'s' * (errors != 1)}{skipped} in {seconds:.2f} s"
    )


def write_junit(results: list[Result], path, seconds: float) -> None:
    failures = sum(r.status == "fail" for r in results)
    errors = sum(r.status == "error" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    counts = {"tests": str(len(results)), "failures": str(failures), "errors": str(errors),
              "skipped": str(skipped)}  # fmt: skip
    suites = ET.Element("testsuites", counts, time=f"{seconds:.3f}")
    suite = ET.SubElement(suites, "testsuite", counts, name="asmtest", time=f"{seconds:.3f}")
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=r.path,
            name=r.name,
            file=r.path,
            line=str(r.line),
            time=f"{r.seconds:.4f}",
        )
        if r.status != "pass":
            tag = {"fail": "failure", "skip": "skipped"}.get(r.status, "error")
            body = format_result(r).split("\n", 1)[-1]
            ET.SubElement(case, tag, message=r.lines[0].strip() if r.lines else tag).text = body
    ET.indent(suites)
    write_output(path, ET.tostring(suites, encoding="utf-8", xml_declaration=True))


BENCH_TESTS_PER_FILE = 10
BENCH_ROUTINE_LENGTH = 20


def bench_source(seed: int) -> str:
    """A file of small tests: a ~20-instruction routine, kthread_run, 3 expectations."""
    body = "".join(f"\taddl ${seed + i}, %eax\n" for i in range(BENCH_ROUTINE_LENGTH - 2))
    total = sum(seed + i for i in range(BENCH_ROUTINE_LENGTH - 2))
    tests = "".join(
        f"#@ test t{n}\n#@ run kthread fn arg={n}\n#@ at fn: eax == {n}\n"
        f"#@ at return: eax == {n + total}\n#@ expect exit == {n + total}\n"
        for n in range(BENCH_TESTS_PER_FILE)
    )
    return f"{tests}\t.globl fn\nfn:\n\tmovl %eax, %ecx\n{body}\tret\n"


def asmtests_per_s(count: int = 1000) -> float:
    """Run about ``count`` small tests (files of 10, each file its own routine, so each
    is assembled) and return tests per second: parsing, assembling, booting the
    machine and every run included."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for seed in range(-(-count // BENCH_TESTS_PER_FILE)):
            path = Path(tmp) / f"bench{seed}.S"
            path.write_text(bench_source(seed))
            paths.append(path)
        start = time.perf_counter()
        runner = Runner()
        results = [r for path in paths for r in runner.run_path(path)]
        seconds = time.perf_counter() - start
    failed = [r for r in results if r.status != "pass"]
    if failed:
        raise RuntimeError("benchmark test failed:\n" + format_result(failed[0]))
    return len(results) / seconds
