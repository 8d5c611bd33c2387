"""kthreadd-emu record: the events of a boot as ftrace text or a Perfetto timeline."""

from kernel_model.cbuild import parse_cflags
from kthreadd_emu.asmtest.judge import outcome as judge_outcome
from kthreadd_emu.errors import UsageError
from kthreadd_emu.options import (
    add_budget_option,
    add_load_option,
    add_machine_options,
    add_output_option,
    add_run_option,
    budget_option,
    machine_options,
)
from kthreadd_emu.output_file import check_output, summary_stream
from kthreadd_emu.scenario import booted_kernel
from kthreadd_emu.tracing.formats import FORMATS, save_trace
from kthreadd_emu.tracing.recorder import Recorder
from kthreadd_emu.tracing.run_line import record_run


def add_parser(sub) -> None:
    p = sub.add_parser(
        "record",
        help="boot, recording scheduler and kthread events (ftrace or Perfetto)",
        description="Boot the machine while recording the scheduler's tracepoints of "
        "2.6.32 (sched_switch, sched_wakeup, sched_process_fork, ...), the kthread_create "
        "requests, completions and oopses, stamped with the emulated instruction count "
        "(1 instruction = 1 ns).",
    )
    add_machine_options(p)
    add_load_option(p, "a file whose routine --run starts")
    add_run_option(
        p,
        'an assembly test\'s run line, e.g. "kthread echo arg=42": record that run '
        "on the booted machine instead of the boot",
    )
    add_budget_option(p, "instructions a CPU may run without a stop (with --run)")
    p.add_argument("--format", choices=FORMATS, default="ftrace", help="default ftrace")
    add_output_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    if bool(args.load) != (args.run_line is not None):
        raise UsageError("--load FILE and --run LINE go together")
    machine, budget, out = machine_options(args), budget_option(args), args.output
    check_output(out)
    recorder = Recorder()
    if args.run_line is not None:
        cflags = parse_cflags(args.cflags)
        execution = record_run(recorder, args.load, args.run_line, machine.ncpus, budget, cflags)
        what = f"the run ({outcome(execution)})"
    else:
        booted_kernel(machine.ncpus, machine.profile, machine.seed, before_boot=recorder.start)
        recorder.stop()
        what = "the boot"
    save_trace(recorder, out, args.format)
    cpus = "1 CPU" if machine.ncpus == 1 else f"{machine.ncpus} CPUs"
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
