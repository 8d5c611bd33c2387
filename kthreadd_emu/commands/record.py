"""kthreadd-emu record: the events of a boot as ftrace text or a Perfetto timeline."""

from pathlib import Path

from kthreadd_emu.commands.ps import add_machine_options
from kthreadd_emu.errors import UsageError, parse_int
from kthreadd_emu.record import FORMATS, Recorder, RecordError, check_output_path
from kthreadd_emu.scenario import booted_kernel


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
    p.add_argument("--format", choices=FORMATS, default="ftrace", help="default ftrace")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it")
    p.set_defaults(run=run)


def run(args) -> int:
    out = Path(args.output)
    try:
        check_output_path(out)
        recorder = Recorder()
        seed = None if args.seed is None else parse_int(args.seed, "--seed")
        kern = booted_kernel(
            parse_int(args.cpus, "--cpus"), args.profile, seed, before_boot=recorder.start
        )
        recorder.stop()
        recorder.save(out, args.format)
    except RecordError as err:
        raise UsageError(f"record: {err}") from None
    ncpus = len(kern.machine.cpus)
    span = max((ev.ts for ev in recorder.events), default=0) / 1000
    print(f"{len(recorder.events)} events over {span:.1f} µs on {ncpus} CPUs -> {out}")
    return 0
