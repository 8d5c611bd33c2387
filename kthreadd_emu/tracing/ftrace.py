"""ftrace's text, as /sys/kernel/debug/tracing/trace prints it."""

from emu.clock import PYTHON_CALL_COST
from kthreadd_emu.tracing.recorder import Event, Recorder

FTRACE_HEADER = (
    "# tracer: nop\n"
    "#\n"
    "# clock: emulated instructions, 1 instruction = 1 ns (nominal 1 GHz); "
    f"a call into a Python kernel function counts {PYTHON_CALL_COST} instructions\n"
    "#\n"
    "#           TASK-PID    CPU#    TIMESTAMP  FUNCTION\n"
    "#              | |       |          |         |\n"
)


def ftrace_fields(ev: Event) -> str:
    parts = [f"{k}={v:03d}" if k == "cpu" else f"{k}={v}" for k, v in ev.fields]
    if ev.name == "sched_switch":
        return " ".join(parts[:4]) + " ==> " + " ".join(parts[4:])
    return " ".join(parts)


def ftrace_line(ev: Event, cmdlines: dict) -> str:
    """trace_print_context() of 2.6.32: ``%16s-%-5d [%03d] %5lu.%06lu: ``, then the event."""
    comm = cmdlines.get(ev.pid, "<...>")
    us = ev.ts // 1000
    secs, usecs = divmod(us, 1_000_000)
    context = f"{comm:>16}-{ev.pid:<5} [{ev.cpu:03d}] {secs:5d}.{usecs:06d}"
    return f"{context}: {ev.name}: {ftrace_fields(ev)}"


def render_ftrace(rec: Recorder) -> str:
    lines = (ftrace_line(ev, rec.cmdlines) + "\n" for ev in rec.sorted_events())
    return FTRACE_HEADER + "".join(lines)
