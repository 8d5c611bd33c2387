"""A reader of `kthreadd-emu record`'s ftrace text, written from 2.6.32's own
format strings (not from the recorder's code): trace_print_context(), each
tracepoint's TP_printk() in include/trace/events/sched.h, and the tool's
trace_printk() lines ("function: message").  The tests that read a trace
use it; it refuses a line it cannot read."""

import re
from typing import NamedTuple

HEADER = (
    "# tracer: nop\n"
    "#\n"
    "#           TASK-PID    CPU#    TIMESTAMP  FUNCTION\n"
    "#              | |       |          |         |\n"
)
# trace_print_context(): "%16s-%-5d [%03d] %5lu.%06lu: ", then "name: text".
CONTEXT = re.compile(
    r"(?P<comm>.{16})-(?P<pid>\d+) *\[(?P<cpu>\d{3})\] +(?P<secs>\d+)\.(?P<usecs>\d{6}): "
    r"(?P<name>\w+): (?P<text>.*)"
)


def _task(p: str = "") -> str:
    return rf"task (?P<{p}comm>.+?):(?P<{p}pid>\d+) \[(?P<{p}prio>-?\d+)\]"


_WAKEUP = _task() + r" success=(?P<success>\d+) \[(?P<cpu>\d{3})\]"
_POINTER = "[0-9a-f]{8}"  # %p
# name: TP_printk of 2.6.32, as a pattern naming each TP_STRUCT__entry field.
TRACEPOINTS = {
    "sched_kthread_stop": r"task (?P<comm>.+?):(?P<pid>\d+)",
    "sched_kthread_stop_ret": r"ret (?P<ret>-?\d+)",
    "sched_wait_task": _task(),
    "sched_wakeup": _WAKEUP,
    "sched_wakeup_new": _WAKEUP,
    "sched_switch": _task("prev_") + r" \((?P<prev_state>[RSDTtZXxW|]+)\) ==> "
    r"(?P<next_comm>.+?):(?P<next_pid>\d+) \[(?P<next_prio>-?\d+)\]",
    "sched_migrate_task": _task() + r" from: (?P<orig_cpu>\d+)  to: (?P<dest_cpu>\d+)",
    "sched_process_free": _task(),
    "sched_process_exit": _task(),
    "sched_process_wait": _task(),
    "sched_process_fork": r"parent (?P<parent_comm>.+?):(?P<parent_pid>\d+)  "
    r"child (?P<child_comm>.+?):(?P<child_pid>\d+)",
}
# The tool's own events: (function, message pattern) -> the event's name.
PRINTK = {
    ("kthread_create", rf"create=(?P<create>{_POINTER}) threadfn=(?P<threadfn>\S+) "
     rf"data=(?P<data>{_POINTER})"): "kthread_create",
    ("kthreadd", rf"dequeue create=(?P<create>{_POINTER}) threadfn=(?P<threadfn>\S+)"):
        "kthreadd_dequeue",
    ("complete", rf"x=(?P<x>{_POINTER}) done=(?P<done>\d+)"): "complete",
    ("wait_for_completion", rf"sleep x=(?P<x>{_POINTER})"): "wait_for_completion_sleep",
    ("wait_for_completion", rf"woken x=(?P<x>{_POINTER})"): "wait_for_completion_wake",
    ("oops_end", rf'ip=(?P<ip>\S+) kind=(?P<kind>\w+) address=(?P<address>{_POINTER}) '
     r'banner="(?P<banner>.*)"'): "oops",
}  # fmt: skip


class Line(NamedTuple):
    comm: str
    pid: int
    cpu: int
    usecs: int  # the timestamp, in microseconds
    event: str  # the tracepoint, or our event's name for a trace_printk line
    printk: bool  # a trace_printk line (the tool's own event)
    fields: dict  # field name -> the text printed for it


def parse_line(line: str) -> Line:
    m = CONTEXT.fullmatch(line)
    assert m, f"not an ftrace line: {line!r}"
    name, text = m["name"], m["text"]
    if name in TRACEPOINTS:
        event, fields = name, re.fullmatch(TRACEPOINTS[name], text)
    else:
        event, fields = next(
            ((ev, f) for (fn, pat), ev in PRINTK.items() if fn == name
             for f in [re.fullmatch(pat, text)] if f),
            (None, None),
        )  # fmt: skip
    assert fields, f"{name}: {text!r} is not what 2.6.32 prints for it"
    usecs = int(m["secs"]) * 1_000_000 + int(m["usecs"])
    comm = m["comm"].lstrip()
    return Line(comm, int(m["pid"]), int(m["cpu"]), usecs, event, name not in TRACEPOINTS,
                fields.groupdict())  # fmt: skip


def parse(text: str) -> list[Line]:
    """Every event line of a trace (its header and '#' comments skipped)."""
    return [parse_line(line) for line in text.splitlines() if line and not line.startswith("#")]
