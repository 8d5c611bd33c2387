"""kthreadd-emu record: the events of a boot as ftrace text or a Perfetto timeline."""

from kthreadd_emu.asmtest.judge import outcome as judge_outcome
from kthreadd_emu.commands.ps import add_machine_options
from kthreadd_emu.errors import CPUS, MAX_BUDGET, SEEDS, UsageError, parse_int
from kthreadd_emu.output_file import check_output, summary_stream
from kthreadd_emu.scenario import booted_kernel
from kthreadd_emu.tracing.formats import FORMATS, save_trace
from kthreadd_emu.tracing.recorder import Recorder, RecordError
from kthreadd_emu.tracing.run_line import record_run


def add_parser(sub) -> None:
    p = sub.add_parser(
        "record",
        help="boot, recording scheduler and kthread events (ftrace or Perfetto)",
        description="Boot the machine while recording sched_switch, sched_wakeup, "
        "sched_process_fork/exit/free, sched_migrate_task, the kthread_create requests, "
        "completions and oopses, stamped with the emulated instruction count "
        "(1 instruction = 1 ns).",
    )
    add_machine_options(p)
    p.add_argument("--load", metavar="FILE.S", help="an assembly file whose routine --run starts")
    p.add_argument(
        "--run",
        dest="run_line",
        metavar="LINE",
        help='an assembly test\'s run line, e.g. "kthread echo arg=42": record that run '
        "on the booted machine instead of the boot",
    )
    p.add_argument("--budget", default="1000000", help="instructions a CPU may run (with --run)")
    p.add_argument("--format", choices=FORMATS, default="ftrace", help="default ftrace")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it")
    p.set_defaults(run=run)


def run(args) -> int:
    out = args.output
    if (args.load is None) != (args.run_line is None):
        raise UsageError("--load FILE.S and --run LINE go together")
    try:
        check_output(out)
        recorder = Recorder()
        ncpus = parse_int(args.cpus, "--cpus", *CPUS)
        seed = None if args.seed is None else parse_int(args.seed, "--seed", *SEEDS)
        if args.run_line is not None:
            budget = parse_int(args.budget, "--budget", 1, MAX_BUDGET)
            execution = record_run(recorder, args.load, args.run_line, ncpus, budget)
            what = f"the run ({outcome(execution)})"
        else:
            booted_kernel(ncpus, args.profile, seed, before_boot=recorder.start)
            recorder.stop()
            what = "the boot"
        save_trace(recorder, out, args.format)
    except RecordError as err:
        raise UsageError(str(err)) from None
    cpus = "1 CPU" if ncpus == 1 else f"{ncpus} CPUs"
    print(
        f"{len(recorder.events)} events of {what} over {span(recorder.end())} on {cpus} "
        f"(1 instruction = 1 ns) -> {out}",
        file=summary_stream(out),
    )
    return 0


def span(ns: int) -> str:
    return f"{ns / 1000:.1f} µs" if ns < 1_000_000 else f"{ns / 1_000_000:.3f} ms"


def outcome(execution) -> str:
    """What became of the run's thread, as asmtest judges it, in a few words."""
    if execution.setup_error or execution.failure:
        return execution.setup_error or execution.failure
    kind, report = judge_outcome(execution)
    if kind == "oops":
        return "the thread oopsed"
    if kind != "clean":
        return report
    return f"exit code {execution.exit_code}"
