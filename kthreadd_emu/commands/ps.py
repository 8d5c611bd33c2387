"""kthreadd-emu ps: boot the machine and list its tasks as ``ps auxf`` does."""

import json

from debugger.ps import ps_auxf, snapshot
from kthreadd_emu.options import add_machine_options, booted_machine


def add_parser(sub) -> None:
    p = sub.add_parser("ps", help="boot, then list the tasks like ps auxf")
    add_machine_options(p)
    p.add_argument("--json", action="store_true", help="a JSON list instead of the table")
    p.set_defaults(run=run)


def run(args) -> int:
    kern = booted_machine(args)
    if args.json:
        print(json.dumps([p.as_json() for p in snapshot(kern)], indent=1))
    else:
        print("\n".join(ps_auxf(kern)))
    return 0
