"""Tracing: record what the machine did: the kernel's tracepoints, stamped with the emulated clock.

A ``Recorder`` listens to the scheduler's tracepoints (2.6.32's
include/trace/events/sched.h: field names and order as there), the
kthread events (a request queued, kthreadd dequeuing it, ``complete``,
``wait_for_completion`` going to sleep and waking) and each oops, and
writes them as ftrace's text, as Chrome trace-event JSON (Perfetto's UI and
chrome://tracing open it) or as Perfetto's own protobuf trace.

The clock is emu/clock.py's count of emulated instructions per CPU, at a
nominal 1 GHz (1 instruction = 1 ns); a call into a Python kernel
function counts as ``PYTHON_CALL_COST`` instructions.  CPUs are emulated
one after the other, so their counts drift apart; a CPU's time never
goes back, and it moves forward to just after a cause that came from
another CPU (a Lamport clock): a woken task is switched in after its
wakeup, kthreadd dequeues a request after it was queued.
"""
