"""kthreadd-emu ps: boot the machine and list its tasks as ``ps auxf`` does."""

import json

from debugger.ps import ps_auxf, snapshot
from kthreadd_emu.errors import CPUS, SEEDS, parse_int
from kthreadd_emu.scenario import booted_kernel


def add_parser(sub) -> None:
    p = sub.add_parser("ps", help="boot, then list the tasks like ps auxf")
    add_machine_options(p)
    p.add_argument("--json", action="store_true", help="a JSON list instead of the table")
    p.set_defaults(run=run)


def add_machine_options(p) -> None:
    p.add_argument("--cpus", default="3", help="number of CPUs, 1 to 256 (default 3)")
    p.add_argument("--profile", default="rhel6", help="rhel6 (the seed's machine) or vanilla")
    p.add_argument(
        "--seed", default=None, help=f"random but reproducible scheduling (0 to {SEEDS[1]})"
    )


def machine_from_args(args):
    seed = None if args.seed is None else parse_int(args.seed, "--seed", *SEEDS)
    return booted_kernel(parse_int(args.cpus, "--cpus", *CPUS), args.profile, seed)


def run(args) -> int:
    kern = machine_from_args(args)
    if args.json:
        print(json.dumps([p.as_json() for p in snapshot(kern)], indent=1))
    else:
        print("\n".join(ps_auxf(kern)))
    return 0
