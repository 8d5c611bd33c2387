"""Perfetto's own protobuf trace (optional: the perfetto package builds it)."""

from kthreadd_emu.tracing.ftrace import ftrace_fields
from kthreadd_emu.tracing.recorder import SCHED_EVENTS, STATE_FLAGS, Recorder, RecordError

PROTO_FIELD_NAMES = {"cpu": "target_cpu"}  # sched_wakeup(_new): Perfetto's name for it


def _state_bits(text: str) -> int:
    """prev_state as the kernel's bits again (the ftrace text prints it as letters)."""
    letters = dict((ch, bit) for bit, ch in STATE_FLAGS)
    return sum(letters.get(ch, 0) for ch in text.split("|"))


def render_perfetto_proto(rec: Recorder) -> bytes:
    """A Perfetto trace of ftrace event bundles, one per CPU: Perfetto's own scheduling
    view.  The sched events are Perfetto's typed ftrace events (same fields; ``cpu`` is
    its ``target_cpu``); the kthread events and oopses are ftrace ``print`` events."""
    try:
        from perfetto.trace_builder.proto_builder import TraceProtoBuilder
    except ImportError:
        raise RecordError(
            "--format perfetto-proto needs the perfetto package "
            "(pip install 'kthreadd-emu[perfetto]')"
        ) from None
    builder = TraceProtoBuilder()
    bundles = {}
    for ev in rec.sorted_events():
        if ev.cpu not in bundles:
            bundles[ev.cpu] = builder.add_packet().ftrace_events
            bundles[ev.cpu].cpu = ev.cpu
        event = bundles[ev.cpu].event.add()
        event.timestamp, event.pid = ev.ts, ev.pid
        if ev.name in SCHED_EVENTS:
            message = getattr(event, ev.name)
            for name, value in ev.fields:
                value = _state_bits(value) if name == "prev_state" else value
                setattr(message, PROTO_FIELD_NAMES.get(name, name), value)
        else:
            event.print.buf = f"{ev.name}: {ftrace_fields(ev)}\n"
    return builder.serialize()
