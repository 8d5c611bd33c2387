"""record: the kernel's events from now on, as `kthreadd-emu record` writes them."""

from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import command


@command("record", category="kernel", complete=lambda shell: ["start", "stop", "save"])
def do_record(shell, rest):
    """Record the kernel's sched events (forks, switches, wakeups, exits).
    Usage: record start | stop | save FILE [ftrace|perfetto|perfetto-proto]

    What kthreadd-emu record writes, in its formats (ftrace's text by default)."""
    from kthreadd_emu.output_file import OutputError
    from kthreadd_emu.tracing.formats import FORMATS, save_trace
    from kthreadd_emu.tracing.recorder import Recorder, RecordError

    word, _, args = rest.strip().partition(" ")
    if word == "start":
        shell.recorder = shell.recorder or Recorder()
        shell.recorder.start(shell.kern)
        shell.say("Recording the kernel's events (record stop, record save FILE).")
    elif word == "stop":
        if shell.recorder is None or not shell.recorder.recording:
            raise CommandError("record stop: not recording")
        shell.recorder.stop()
        shell.say(f"Stopped recording: {len(shell.recorder.events)} events.")
    elif word == "save":
        path, _, fmt = args.strip().partition(" ")
        fmt = fmt.strip() or "ftrace"
        if shell.recorder is None or not path:
            raise CommandError("usage: record start, then record save FILE [FORMAT]")
        if fmt not in FORMATS:
            raise CommandError(f"record save: unknown format {fmt!r} ({', '.join(FORMATS)})")
        try:
            save_trace(shell.recorder, path, fmt)
        except (RecordError, OutputError) as err:
            raise CommandError(f"record save: {err}") from None
        shell.say(f"{len(shell.recorder.events)} events written to {path} ({fmt}).")
    else:
        raise CommandError("usage: record start | stop | save FILE [FORMAT]")
