"""kthreadd-emu asmtest: run assembly tests (``.S`` files with ``#@ test`` lines).

    kthreadd-emu asmtest PATH... [--junit FILE] [--budget N] [-q]

One line per test (PASS, FAIL, ERROR), with the failing expectations, the
values seen and the thread's last instructions under a failure; then a
summary.  Exit status 0 only if every test passed.
"""

import os
import sys
import time

from kthreadd_emu.asmtest.runner import (
    DEFAULT_BUDGET,
    FILE_ERROR,
    Runner,
    discover,
    format_result,
    summary,
)
from kthreadd_emu.asmtest.runner import write_junit as junit
from kthreadd_emu.errors import MAX_BUDGET, UsageError, complain, parse_int, shown


def add_parser(sub) -> None:
    p = sub.add_parser("asmtest", help="run assembly tests: .S files with '#@ test' lines")
    p.add_argument("paths", nargs="+", metavar="PATH", help="test files, or folders to search")
    p.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")
    p.add_argument(
        "--budget",
        default=str(DEFAULT_BUDGET),
        help=f"instructions a CPU may run without a stop, per test (default {DEFAULT_BUDGET})",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only what did not pass")
    p.set_defaults(run=run)


def run(args) -> int:
    budget = parse_int(args.budget, "--budget", 1, MAX_BUDGET)
    if args.junit is not None and (not args.junit or os.path.isdir(args.junit)):
        raise UsageError(f"--junit: {shown(args.junit)} is not a file name")
    files = discover(args.paths)
    if not files:
        raise UsageError(f"no assembly tests in {' '.join(args.paths)}")
    runner, results = Runner(budget), []
    start = time.perf_counter()
    for path in files:
        for result in runner.run_path(path):
            results.append(result)
            if result.name == FILE_ERROR and not result.line:
                complain("asmtest", result.lines[0])  # cannot be read: not found, not text
            elif result.name == FILE_ERROR:
                # A mistake in the file (bad assembly, no tests): file:line and the line.
                print("\n".join(result.lines), file=sys.stderr, flush=True)
            elif result.status != "pass" or not args.quiet:
                print(format_result(result), flush=True)
    seconds = time.perf_counter() - start
    print(summary(results, seconds))
    if args.junit:
        junit(results, args.junit, seconds)
    return 0 if all(r.status == "pass" for r in results) else 1
