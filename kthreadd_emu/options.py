"""The options several commands share, their checks, and the machines they describe.

One place, so that each is parsed the same by every command that takes it:
``--seed=-1`` is refused alike by ps, record, debug and gdbserver.  A command
module adds the options it takes (``add_machine_options(parser)``) and reads
them back checked (``machine_options(args)``), or asks for the machine they
describe (``booted_machine(args)``).  Command modules never import each other.
"""

from dataclasses import dataclass

from kernel_model.kernel import Kernel
from kernel_model.main import check_profile
from kernel_model.task import find_task_by_pid, for_each_process
from kthreadd_emu.errors import CPUS, MAX_BUDGET, PIDS, SEEDS, UsageError, parse_int, read_file
from kthreadd_emu.scenario import DEMO_SOURCE, booted_kernel

DEFAULT_BUDGET = 1_000_000


@dataclass(frozen=True)
class MachineOptions:
    ncpus: int
    profile: str
    seed: int | None


def add_machine_options(p) -> None:
    p.add_argument("--cpus", default="3", help=f"number of CPUs, 1 to {CPUS[1]} (default 3)")
    p.add_argument("--profile", default="rhel6", help="rhel6 (the seed's machine) or vanilla")
    p.add_argument(
        "--seed", default=None, help=f"random but reproducible scheduling (0 to {SEEDS[1]})"
    )


def machine_options(args) -> MachineOptions:
    """--cpus, --profile and --seed, checked."""
    ncpus = parse_int(args.cpus, "--cpus", *CPUS)
    check_profile(args.profile)
    seed = None if args.seed is None else parse_int(args.seed, "--seed", *SEEDS)
    return MachineOptions(ncpus, args.profile, seed)


def add_load_option(p, help: str) -> None:
    p.add_argument("--load", metavar="FILE.S", help=help)


def add_run_option(p, help: str) -> None:
    p.add_argument("--run", dest="run_line", metavar="LINE", help=help)


def add_output_option(p) -> None:
    """-o FILE: written as kthreadd_emu/output_file.py writes every output file."""
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it")


def add_budget_option(p, help: str, default: int = DEFAULT_BUDGET) -> None:
    p.add_argument("--budget", default=str(default), help=f"{help} (default {default})")


def budget_option(args) -> int:
    return parse_int(args.budget, "--budget", 1, MAX_BUDGET)


def add_pid_option(p, default: int | None = None) -> None:
    """--pid, required unless it has a ``default`` (a pid of the boot, named in the help)."""
    if default is None:
        p.add_argument("--pid", required=True, help="the task")
    else:
        p.add_argument("--pid", default=str(default), help=f"the task (default {default})")


def pid_option(args) -> int:
    """--pid, checked (before the boot; ``pick_task`` finds it after)."""
    return parse_int(args.pid, "--pid", *PIDS)


def pick_task(kern, pid: int):
    task = find_task_by_pid(kern, pid)
    if task is None:
        pids = ", ".join(str(p.pid) for p in for_each_process(kern))
        raise UsageError(f"--pid: no task with pid {pid} (tasks: {pids})")
    return task


def booted_machine(args):
    """The machine the options describe, booted until every CPU is idle."""
    m = machine_options(args)
    return booted_kernel(m.ncpus, m.profile, m.seed)


def load_user_image(kern, path) -> None:
    """Assemble and load ``path`` after the kernel text (its symbols go in the table)."""
    read_file(path)  # one clear line for a file that is missing, not text or too large
    kern.load_asm(path)


def booted_with_image(args):
    """The booted machine, with --load's image if any (what gdb is shown)."""
    kern = booted_machine(args)
    if args.load is not None:
        load_user_image(kern, args.load)
    return kern


def unbooted_machine(args):
    """The machine stopped before boot (the debugger's ``continue`` boots it), with
    --load's image; or, with --run, the assembly tests' machine with that run's
    thread spawned and not yet run."""
    m = machine_options(args)
    if args.run_line and not args.load:
        raise UsageError("--run needs --load FILE.S (the routine it starts)")
    if args.run_line:
        return prepared_run(args.load, args.run_line, m.ncpus)
    kern = Kernel(m.ncpus, seed=m.seed)
    kern.demo = kern.load_asm(DEMO_SOURCE)
    kern.profile = m.profile
    if args.load:
        kern.load_asm(args.load)
    return kern


def prepared_run(path: str, run_line: str, ncpus: int):
    """The assembly tests' machine (booted, restored to its snapshot) with the file
    loaded and the run line's thread spawned, not yet run: the asmtest machinery's
    own Execution, prepared, so `continue` runs exactly what the test would."""
    # Only here: the commands that never take --run do not load the asmtest machinery.
    from kthreadd_emu.asmtest.run import Execution
    from kthreadd_emu.asmtest.runner import DEFAULT_BUDGET as TEST_BUDGET
    from kthreadd_emu.asmtest.runner import plan_run_line

    machine, plan = plan_run_line(path, run_line, ncpus)
    return Execution(machine, plan, TEST_BUDGET).prepare()
