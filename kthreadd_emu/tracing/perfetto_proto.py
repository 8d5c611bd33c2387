"""Perfetto's own protobuf trace (optional: the perfetto package builds it)."""

from kthreadd_emu.tracing.ftrace import event_text
from kthreadd_emu.tracing.recorder import SCHED_EVENTS, Event, Recorder, RecordError

PROTO_FIELD_NAMES = {"cpu": "target_cpu"}  # sched_wakeup(_new): Perfetto's name for it
# 2.6.32 tracepoints Perfetto has no typed message for: its generic ftrace event.
GENERIC = frozenset({"sched_kthread_stop", "sched_kthread_stop_ret", "sched_wait_task"})


def render_perfetto_proto(rec: Recorder) -> bytes:
    """A Perfetto trace of ftrace event bundles, one per CPU: Perfetto's own scheduling
    view.  The sched events are Perfetto's typed ftrace events (same fields; ``cpu`` is
    its ``target_cpu``), or its generic one where it has none; our own events are
    ``print`` events holding what ftrace prints for them (``function: message``: most
    of those functions are Python's, with no address for the event's ``ip``)."""
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
        if ev.name in GENERIC:
            _generic(event.generic, ev)
        elif ev.name in SCHED_EVENTS:
            message = getattr(event, ev.name)
            for name, value in ev.fields:
                setattr(message, PROTO_FIELD_NAMES.get(name, name), value)
        else:
            event.print.buf = event_text(ev) + "\n"
    return builder.serialize()


def _generic(message, ev: Event) -> None:
    message.event_name = ev.name
    for name, value in ev.fields:
        field = message.field.add()
        field.name = name
        if isinstance(value, str):
            field.str_value = value
        else:
            field.int_value = value
