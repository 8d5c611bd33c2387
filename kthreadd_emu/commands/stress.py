"""kthreadd-emu stress: many kernel threads created, run and reaped in one run."""

from kthreadd_emu.errors import parse_int
from kthreadd_emu.lifecycles import stress
from kthreadd_emu.options import add_machine_options, booted_machine
from kthreadd_emu.progress import progress_bar

THREADS = (1, 10_000_000)
# Each thread alive holds an 8 KiB stack of the machine's 64 MiB.
ALIVE = (1, 4096)


def add_parser(sub) -> None:
    p = sub.add_parser("stress", help="create, run and reap many kthreads; check nothing leaks")
    p.add_argument(
        "--threads", default="100000", help=f"how many threads, 1 to {THREADS[1]} (default 100000)"
    )
    p.add_argument(
        "--alive",
        default="64",
        help=f"at most this many alive at once, 1 to {ALIVE[1]} (default 64)",
    )
    add_machine_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    threads = parse_int(args.threads, "--threads", *THREADS)
    alive = parse_int(args.alive, "--alive", *ALIVE)
    kern = booted_machine(args)
    before = (kern.mm.stacks.in_use, kern.mm.tasks.in_use, kern.data.pidmap_nr_free)
    with progress_bar("threads created", threads) as bar:
        result = stress(kern, threads, alive, bar=bar)
    after = (kern.mm.stacks.in_use, kern.mm.tasks.in_use, kern.data.pidmap_nr_free)
    print(
        f"created {result.created}, failed {result.failed} in {result.seconds:.1f} s "
        f"({result.created / result.seconds:.0f} threads/s); last pid {kern.data.last_pid}"
    )
    print(f"stacks, task_structs, free pids: before {before}, after {after}")
    leaked = before != after
    print("LEAK" if leaked else "no leaks")
    return 1 if leaked or result.failed else 0
