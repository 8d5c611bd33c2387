"""kthreadd-emu bench: speed as ratios against a bare Unicorn round trip
measured in the same process."""

import json

from kthreadd_emu.benchmarks import (
    BENCH_STAGES,
    figure_text,
    page_parts,
    run_benchmarks,
    write_page,
)
from kthreadd_emu.progress import progress_bar


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure speed against a bare Unicorn round trip")
    p.add_argument("--quick", action="store_true", help="short runs (noisier)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument(
        "--page",
        metavar="FILE",
        help="also write the figures into FILE, between its bench markers "
        "(make bench: docs/performance.md)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    parts = page_parts(args.page) if args.page else None
    with progress_bar("bench", BENCH_STAGES) as bar:
        results = run_benchmarks(quick=args.quick, bar=bar)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for key, value in results.items():
            print(f"{key:<40} {figure_text(value):>14}")
    if parts:
        write_page(args.page, parts, results)
    return 0
