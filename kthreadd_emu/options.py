"""The options several commands share, their checks, and the machines they describe.

One place, so that each is parsed the same by every command that takes it:
``--seed=-1`` is refused alike by ps, record, debug and gdbserver.  A command
module adds the options it takes (``add_machine_options(parser)``) and reads
them back checked (``machine_options(args)``), or asks for the machine they
describe (``booted_machine(args)``).  Command modules never import each other.
"""

import sys
from dataclasses import dataclass

from kernel_model.cbuild import is_c_file, load_c, parse_cflags
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
    """--load FILE (.S or .c, may be repeated: each loaded after the one before) and
    --cflags for the C files."""
    p.add_argument("--load", action="append", default=[], metavar="FILE",
                   help=f"{help}: FILE.S, or FILE.c compiled with the kernel's flags "
                   "(may be repeated)")  # fmt: skip
    p.add_argument(
        "--cflags",
        metavar="FLAGS",
        help="for .c files: compiler flags "
        "after the kernel's, -O2 unless an -O level is given (--cflags='-O0 -DN=3')",
    )


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


def load_user_image(kern, path, cflags: tuple[str, ...] = ()) -> None:
    """Assemble (a .c file: compile, then assemble) and load ``path`` after the kernel
    text; its symbols go in the table.  The compiler's warnings go to stderr."""
    read_file(path)  # one clear line for a file that is missing, not text or too large
    if is_c_file(path):
        compiled, _ = load_c(kern, path, cflags)
        if compiled.warnings:
            print(compiled.warnings.rstrip(), file=sys.stderr)
    else:
        kern.load_asm(path)


def load_files(kern, args) -> None:
    """Every --load file, in the order given."""
    cflags = parse_cflags(args.cflags)
    for path in args.load:
        load_user_image(kern, path, cflags)


def booted_with_image(args):
    """The booted machine, with --load's files if any (what gdb is shown)."""
    kern = booted_machine(args)
    load_files(kern, args)
    return kern


def unbooted_machine(args):
    """The machine stopped before boot (the debugger's ``continue`` boots it), with
    --load's files; or, with --run, the assembly tests' machine with that run's
    thread spawned and not yet run."""
    m = machine_options(args)
    if args.run_line and not args.load:
        raise UsageError("--run needs --load FILE (the routine it starts)")
    if args.run_line:
        return prepared_run(args.load, args.run_line, m.ncpus, parse_cflags(args.cflags))
    kern = Kernel(m.ncpus, seed=m.seed)
    kern.demo = kern.load_asm(DEMO_SOURCE)
    kern.profile = m.profile
    load_files(kern, args)
    return kern


def run_to_idle(args):
    """--load and --run: the run line's thread run on the test machine until every
    CPU is idle.  Returns (kernel, the thread's pid); UsageError if it never started."""
    if not args.load:
        raise UsageError("--run needs --load FILE (the routine it starts)")
    from kthreadd_emu.asmtest.run import Execution
    from kthreadd_emu.asmtest.runner import DEFAULT_BUDGET as TEST_BUDGET
    from kthreadd_emu.asmtest.runner import plan_run_line

    m = machine_options(args)
    machine, plan = plan_run_line(
        args.load, args.run_line, m.ncpus, cflags=parse_cflags(args.cflags)
    )
    execution = Execution(machine, plan, TEST_BUDGET)
    execution.execute()
    if execution.task is None:
        raise UsageError(f"--run: the thread was never created ({execution.setup_error})")
    return execution.kern, execution.task.pid


def prepared_run(paths: list[str], run_line: str, ncpus: int, cflags: tuple[str, ...] = ()):
    """The assembly tests' machine (booted, restored to its snapshot) with the file
    loaded and the run line's thread spawned, not yet run: the asmtest machinery's
    own Execution, prepared, so `continue` runs exactly what the test would."""
    # Only here: the commands that never take --run do not load the asmtest machinery.
    from kthreadd_emu.asmtest.run import Execution
    from kthreadd_emu.asmtest.runner import DEFAULT_BUDGET as TEST_BUDGET
    from kthreadd_emu.asmtest.runner import plan_run_line

    machine, plan = plan_run_line(paths, run_line, ncpus, cflags=cflags)
    return Execution(machine, plan, TEST_BUDGET).prepare()
