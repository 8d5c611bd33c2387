"""kthreadd-emu asmtest: run assembly tests (``.S`` files with ``#@ test`` lines).

    kthreadd-emu asmtest PATH... [--junit FILE] [--budget N] [-q]

One line per test (PASS, FAIL, ERROR), with the failing expectations, the
values seen and the thread's last instructions under a failure; then a
summary.  Exit status 0 only if every test passed.
"""

import os
import sys
import time

from kernel_model.cbuild import parse_cflags
from kthreadd_emu.asmtest.format import parse_file
from kthreadd_emu.asmtest.run import Execution
from kthreadd_emu.asmtest.runner import (
    DEFAULT_BUDGET,
    FILE_ERROR,
    Runner,
    discover,
    format_result,
    summary,
)
from kthreadd_emu.asmtest.runner import write_junit as junit
from kthreadd_emu.errors import UsageError, complain, shown
from kthreadd_emu.options import add_budget_option, budget_option
from kthreadd_emu.output_file import check_output
from kthreadd_emu.progress import progress_bar


def add_parser(sub) -> None:
    p = sub.add_parser(
        "asmtest",
        help="run assembly tests: .S files with '#@ test' lines, C files with '//@ test' lines",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="test files, or folders to search")
    p.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")
    add_budget_option(p, "instructions a CPU may run without a stop, per test", DEFAULT_BUDGET)
    p.add_argument("--cflags", metavar="FLAGS", help="for .c files: compiler flags after the "
                   "kernel's, -O2 unless an -O level is given")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="print only what did not pass")
    p.add_argument("--debug", action="store_true",
                   help="open the debugger at the first failing test's expectation")  # fmt: skip
    p.add_argument("-x", dest="scripts", action="append", default=[], metavar="FILE",
                   help="with --debug: the debugger's command file (may be repeated)")  # fmt: skip
    p.add_argument("--batch", action="store_true",
                   help="with --debug: exit after the -x files")  # fmt: skip
    p.set_defaults(run=run)


def run(args) -> int:
    budget = budget_option(args)
    if args.junit is not None and (not args.junit or os.path.isdir(args.junit)):
        raise UsageError(f"--junit: {shown(args.junit)} is not a file name")
    if args.junit is not None:
        check_output(args.junit)
    files = discover(args.paths)
    if not files:
        raise UsageError(f"no assembly tests in {' '.join(args.paths)}")
    runner, results = Runner(budget, cflags=parse_cflags(args.cflags)), []
    start = time.perf_counter()
    # Over many files, a bar on a terminal (stderr); nothing extra when piped.
    with progress_bar("test files", len(files)) as bar:
        for path in files:
            for result in runner.run_path(path):
                results.append(result)
                report_result(result, args.quiet)
                if args.debug and result.status == "fail":
                    print(summary(results, time.perf_counter() - start), flush=True)
                    return debug_failure(runner, result, args)
            bar.advance()
    seconds = time.perf_counter() - start
    print(summary(results, seconds))
    if args.junit:
        junit(results, args.junit, seconds)
    return 0 if all(r.status in ("pass", "skip") for r in results) else 1


def report_result(result, quiet: bool) -> None:
    if result.status == "skip":
        print(f"SKIP {result.path}: {result.lines[0]}", flush=True)
    elif result.name == FILE_ERROR and not result.line and len(result.lines) == 1:
        complain("asmtest", result.lines[0])  # cannot be read: not found, not text
    elif result.name == FILE_ERROR:
        # A mistake in the file (bad assembly, no tests): file:line and the line.
        print("\n".join(result.lines), file=sys.stderr, flush=True)
    elif result.status != "pass" or not quiet:
        print(format_result(result), flush=True)


def debug_failure(runner, result, args) -> int:
    """As pytest --pdb: the failing test again under the debugger (the machine is
    restored to the same snapshot, so the run is the same), stopped where its
    first failing `at` check was evaluated, or at the end of the run for an
    `expect` line.  The exit status stays 1: the test failed."""
    from kthreadd_emu.debug_session import read_scripts, session

    scripts = read_scripts(args.scripts)
    tfile = parse_file(result.path)
    test = next(t for t in tfile.tests if (t.name, t.line) == (result.name, result.line))
    plan = runner.plan_for(tfile, test)
    first = Execution(runner.machine, plan, runner.budget)
    first.execute()
    label = next(
        (addr for addr, checks in plan.at_label.items()
         for c in checks if not first.results.get(id(c), (False,))[0]),
        None,
    )  # fmt: skip
    pid = first.task.pid if first.task is not None else None
    kern = Execution(runner.machine, plan, runner.budget).prepare()

    def setup(shell):
        where = kern.symbols.describe(label) if label is not None else "the end of the run"
        shell.say(f"asmtest --debug: {result.path}:{result.line}: {test.name} failed; "
                  f"the debugger stops at {where}")  # fmt: skip
        if label is not None and pid is not None:
            shell.engine.break_at(label, condition=f"current->pid == {pid}", temporary=True)

    session(kern, ["continue", *scripts], args.batch, setup)
    return 1
