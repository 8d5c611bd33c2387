"""ftrace's text, as 2.6.32's /sys/kernel/debug/tracing/trace prints it.

The header of s_show() and print_func_help_header(); each line starts with
trace_print_context() (``%16s-%-5d [%03d] %5lu.%06lu: ``, the time through
ns2usecs(), which rounds to the nearest microsecond).  A tracepoint then
prints ``name: `` and its TP_printk() (include/trace/events/sched.h; the
trace-event macros of include/trace/ftrace.h); our own events print as a
trace_printk() in the kernel function where the model fires them would
(trace_bprint_print(): that function's name, ``: ``, the message).
"""

from emu.clock import PYTHON_CALL_COST
from kthreadd_emu.tracing.recorder import Event, Recorder, prev_state_text

HEADER = (
    "# tracer: nop\n"
    "#\n"
    "#           TASK-PID    CPU#    TIMESTAMP  FUNCTION\n"
    "#              | |       |          |         |\n"
)
# After the last line, as a comment (a parser skips '#' lines, as it skips
# ftrace's own "##### CPU N buffer started ####"): what the timestamps count.
CLOCK_NOTE = (
    "# clock: emulated instructions, 1 instruction = 1 ns (nominal 1 GHz); "
    f"a call into a Python kernel function counts {PYTHON_CALL_COST} instructions\n"
)

_TASK = "task %s:%d [%d]"
_WAKEUP = "task %s:%d [%d] success=%d [%03d]"
# Each tracepoint's TP_printk(), as 2.6.32 has it.
TP_PRINTK = {
    "sched_kthread_stop": "task %s:%d",
    "sched_kthread_stop_ret": "ret %d",
    "sched_wait_task": _TASK,
    "sched_wakeup": _WAKEUP,
    "sched_wakeup_new": _WAKEUP,
    "sched_switch": "task %s:%d [%d] (%s) ==> %s:%d [%d]",
    "sched_migrate_task": "task %s:%d [%d] from: %d  to: %d",
    "sched_process_free": _TASK,
    "sched_process_exit": _TASK,
    "sched_process_wait": _TASK,
    "sched_process_fork": "parent %s:%d  child %s:%d",
}
# Our events: (the function that would call trace_printk(), its format).  As
# lib/vsprintf.c prints them, %p is a pointer in 8 hex digits (%08x here) and
# %pf a function's name (%s: the recorder keeps the symbol's name).
TRACE_PRINTK = {
    "kthread_create": ("kthread_create", "create=%08x threadfn=%s data=%08x"),
    "kthreadd_dequeue": ("kthreadd", "dequeue create=%08x threadfn=%s"),
    "complete": ("complete", "x=%08x done=%u"),
    "wait_for_completion_sleep": ("wait_for_completion", "sleep x=%08x"),
    "wait_for_completion_wake": ("wait_for_completion", "woken x=%08x"),
    "oops": ("oops_end", 'ip=%s kind=%s address=%08x banner="%s"'),
}


def ns2usecs(ns: int) -> int:
    """kernel/trace/trace.c: nanoseconds to the nearest microsecond."""
    return (ns + 500) // 1000


def event_text(ev: Event) -> str:
    """What follows the context: ``name: TP_printk`` or ``function: message``."""
    if ev.name in TP_PRINTK:
        values = ev.values
        if ev.name == "sched_switch":  # prev_state through __print_flags
            values = (*values[:3], prev_state_text(values[3]), *values[4:])
        return f"{ev.name}: {TP_PRINTK[ev.name] % values}"
    function, message = TRACE_PRINTK[ev.name]
    return f"{function}: {message % ev.values}"


def ftrace_line(ev: Event, cmdlines: dict) -> str:
    """trace_print_context() of 2.6.32, then the event."""
    comm = cmdlines.get(ev.pid, "<...>")
    secs, usecs = divmod(ns2usecs(ev.ts), 1_000_000)
    context = f"{comm:>16}-{ev.pid:<5} [{ev.cpu:03d}] {secs:5d}.{usecs:06d}"
    return f"{context}: {event_text(ev)}"


def render_ftrace(rec: Recorder) -> str:
    lines = (ftrace_line(ev, rec.cmdlines) + "\n" for ev in rec.sorted_events())
    return HEADER + "".join(lines) + CLOCK_NOTE
