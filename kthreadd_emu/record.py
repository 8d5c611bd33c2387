"""Record what the machine did: the kernel's tracepoints, stamped with the emulated clock.

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

import functools
import json
from typing import NamedTuple

from emu.clock import PYTHON_CALL_COST, InstructionClock
from kernel_model.process_32 import task_pt_regs
from kernel_model.sched import task_cpu
from kernel_model.traps import fault_header
from kthreadd_emu.output_file import write_output

FORMATS = ("ftrace", "perfetto", "perfetto-proto")
NS_PER_INSN = 1  # nominal 1 GHz
# __print_flags of sched_switch's prev_state in 2.6.32; 0 prints as "R".
STATE_FLAGS = ((1, "S"), (2, "D"), (4, "T"), (8, "t"), (16, "Z"), (32, "X"), (64, "x"), (128, "W"))
SCHED_EVENTS = (
    "sched_process_fork",
    "sched_wakeup",
    "sched_wakeup_new",
    "sched_switch",
    "sched_migrate_task",
    "sched_process_exit",
    "sched_process_free",
)
KTHREAD_EVENTS = (
    "kthread_create",
    "kthreadd_dequeue",
    "complete",
    "wait_for_completion_sleep",
    "wait_for_completion_wake",
)


class RecordError(Exception):
    """A recording cannot be saved where or as asked."""


# Each event's fields, in the tracepoint's order (the TP_STRUCT__entry of
# 2.6.32's include/trace/events/sched.h for the scheduler's).
_TASK = ("comm", "pid", "prio")
_WAKEUP = (*_TASK, "success", "cpu")
FIELDS = {
    "sched_process_fork": ("parent_comm", "parent_pid", "child_comm", "child_pid"),
    "sched_wakeup": _WAKEUP,
    "sched_wakeup_new": _WAKEUP,
    "sched_switch": (
        "prev_comm",
        "prev_pid",
        "prev_prio",
        "prev_state",
        "next_comm",
        "next_pid",
        "next_prio",
    ),  # fmt: skip
    "sched_migrate_task": (*_TASK, "orig_cpu", "dest_cpu"),
    "sched_process_exit": _TASK,
    "sched_process_free": _TASK,
    "kthread_create": ("create", "threadfn", "data"),
    "kthreadd_dequeue": ("create", "threadfn"),
    "complete": ("x", "done"),
    "wait_for_completion_sleep": ("x",),
    "wait_for_completion_wake": ("x",),
    "oops": ("ip", "kind", "address", "banner"),
}


class Event(NamedTuple):
    """One trace line: which task was current on which CPU at ``ts`` (ns), and the
    values of its fields (named by FIELDS).  Plain tuples of plain values, few
    of them: a 256-CPU boot records tens of thousands, and every object made
    while recording is one more for the garbage collector to walk."""

    ts: int
    cpu: int
    pid: int  # the current task's; its comm comes from Recorder.cmdlines
    name: str
    values: tuple  # in FIELDS[name]'s order
    flow_in: tuple = ()  # (flow id, label) pairs ending here
    flow_out: tuple = ()  # (flow id, label) pairs starting here

    @property
    def fields(self) -> tuple:
        """(name, value) pairs in the tracepoint's order."""
        return tuple(zip(FIELDS[self.name], self.values, strict=True))


def comm_of(task) -> str:
    return task.comm.decode(errors="replace")


@functools.cache
def prev_state_text(state: int) -> str:
    if not state:
        return "R"
    return "|".join(ch for bit, ch in STATE_FLAGS if state & bit) or str(state)


class Recorder:
    """start(kern) ... stop() ... save(path, format): what a debugger drives too."""

    def __init__(self):
        self.events: list[Event] = []
        self.kern = None
        self.clock = None
        self.recording = False
        self._offset: list[int] = []
        self._ready: dict[int, tuple[int, int | None]] = {}  # task -> (not before, wakeup flow)
        self._requests: dict[int, tuple[int, int]] = {}  # create -> (queued at, flow id)
        self._child_flows: dict[int, int] = {}  # task -> kthread_create flow to its first run
        self._flows = 0
        # pid -> comm as last seen at a switch or fork: ftrace's saved_cmdlines, which
        # names each line's task when the trace is read, not when it is recorded.
        self.cmdlines: dict[int, str] = {0: "<idle>"}
        self._current: dict[int, int] = {}  # cpu -> pid of its current task

    # -- control -------------------------------------------------------------

    def start(self, kern) -> None:
        """Record ``kern`` from now on (again after a snapshot restore, which drops probes)."""
        if self.kern is not kern:
            self.kern = kern
            self.clock = InstructionClock(kern.machine)
            self._offset = [0] * len(kern.machine.cpus)
        self._probes(kern.unregister_trace)
        self._probes(kern.register_trace)
        self.clock.start()
        self._current = {}  # a snapshot may have been restored since
        self.recording = True

    def stop(self) -> None:
        if self.kern is not None:
            self.clock.stop()
            self._probes(self.kern.unregister_trace)
        self.recording = False

    def _probes(self, action) -> None:
        for name in SCHED_EVENTS + KTHREAD_EVENTS + ("oops",):
            action(name, getattr(self, "_on_" + name))

    def save(self, path, fmt: str = "ftrace") -> None:
        """Write the events as ``fmt``; the file appears whole or not at all."""
        if fmt not in RENDERERS:
            raise RecordError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
        write_output(path, RENDERERS[fmt](self))

    # -- the clock -----------------------------------------------------------

    def now(self, cpu: int) -> int:
        return (self.clock.counts[cpu] + self._offset[cpu]) * NS_PER_INSN

    def _not_before(self, cpu: int, ts: int) -> None:
        if self.now(cpu) < ts:
            self._offset[cpu] = ts // NS_PER_INSN - self.clock.counts[cpu]

    def _emit(self, name: str, values: tuple, me=None, flow_in=(), flow_out=()) -> Event:
        """An event on this CPU; ``me`` is its current task if the caller has it."""
        cpu = self.kern.this_cpu
        pid = self._current.get(cpu)
        if pid is None:
            me = me or self.kern.current(cpu)
            pid = self._current[cpu] = me.pid
            self.cmdlines.setdefault(pid, comm_of(me))
        ev = Event(self.now(cpu), cpu, pid, name, values, flow_in, flow_out)
        self.events.append(ev)
        return ev

    def _flow(self) -> int:
        self._flows += 1
        return self._flows

    # -- probes --------------------------------------------------------------

    def _on_sched_process_fork(self, parent, child):
        child_comm, child_pid = comm_of(child), child.pid
        self.cmdlines[child_pid] = child_comm
        self._emit("sched_process_fork", (comm_of(parent), parent.pid, child_comm, child_pid))
        kthread = self.kern.symbols.get("kthread")
        regs = task_pt_regs(self.kern, child)
        # kernel_thread(kthread, create, ...): the child's pt_regs carry fn in bx, arg in dx.
        if kthread is not None and regs.bx == kthread and regs.dx in self._requests:
            self._child_flows[child.addr] = self._requests.pop(regs.dx)[1]

    def _task_values(self, p) -> tuple:
        return (comm_of(p), p.pid, p.prio)

    def _wakeup(self, name, p, success):
        values = (*self._task_values(p), success, task_cpu(self.kern, p))
        flow = self._flow() if success else None
        ev = self._emit(name, values, flow_out=((flow, "wakeup"),) if success else ())
        self._ready[p.addr] = (ev.ts + NS_PER_INSN, flow)

    def _on_sched_wakeup(self, p, success):
        self._wakeup("sched_wakeup", p, success)

    def _on_sched_wakeup_new(self, p, success):
        self._wakeup("sched_wakeup_new", p, success)

    def _on_sched_switch(self, prev, next):
        cpu = self.kern.this_cpu
        ready, flow = self._ready.pop(next.addr, (0, None))
        self._not_before(cpu, ready)
        create_flow = self._child_flows.pop(next.addr, None)
        flow_in = () if flow is None else ((flow, "wakeup"),)
        if create_flow is not None:
            flow_in += ((create_flow, "kthread_create"),)
        prev_comm, prev_pid, next_comm, next_pid = comm_of(prev), prev.pid, comm_of(next), next.pid
        self._emit(
            "sched_switch",
            (
                prev_comm,
                prev_pid,
                prev.prio,
                prev_state_text(prev.state),
                next_comm,
                next_pid,
                next.prio,
            ),  # fmt: skip
            prev,
            flow_in=flow_in,
        )
        self._current[cpu] = next_pid
        if prev_pid:
            self.cmdlines[prev_pid] = prev_comm
        if next_pid:
            self.cmdlines[next_pid] = next_comm

    def _on_sched_migrate_task(self, p, dest_cpu):
        # sched_fork() calls set_task_cpu() even when the child stays: only moves are shown.
        orig = task_cpu(self.kern, p)
        if orig == dest_cpu:
            return
        self._emit("sched_migrate_task", (*self._task_values(p), orig, dest_cpu))

    def _on_sched_process_exit(self, p):
        self._emit("sched_process_exit", self._task_values(p))

    def _on_sched_process_free(self, p):
        self._emit("sched_process_free", self._task_values(p))

    def _on_kthread_create(self, create):
        flow = self._flow()
        values = (
            f"{create.addr:#x}",
            self.kern.symbols.label(create.threadfn),
            f"{create.data:#x}",
        )
        ev = self._emit("kthread_create", values, flow_out=((flow, "kthread_create"),))
        self._requests[create.addr] = (ev.ts, flow)

    def _on_kthreadd_dequeue(self, create):
        queued = self._requests.get(create.addr, (0, None))[0]
        self._not_before(self.kern.this_cpu, queued + NS_PER_INSN)
        self._emit(
            "kthreadd_dequeue", (f"{create.addr:#x}", self.kern.symbols.label(create.threadfn))
        )

    def _on_complete(self, x):
        self._emit("complete", (f"{x.addr:#x}", x.done))

    def _on_wait_for_completion_sleep(self, x):
        self._emit("wait_for_completion_sleep", (f"{x.addr:#x}",))

    def _on_wait_for_completion_wake(self, x):
        self._emit("wait_for_completion_wake", (f"{x.addr:#x}",))

    def _on_oops(self, task, fault):
        banner = fault_header(fault)[1]
        self._emit(
            "oops",
            (
                self.kern.symbols.describe_sized(fault.eip),
                fault.kind,
                f"{fault.address:#x}",
                f'"{banner}"',
            ),
        )

    # -- output --------------------------------------------------------------

    def sorted_events(self) -> list[Event]:
        """By time; events at the same time keep the order they happened in."""
        return sorted(self.events, key=lambda ev: ev.ts)


# -- ftrace ------------------------------------------------------------------

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


# -- Perfetto (Chrome trace-event JSON) --------------------------------------

CPUS_PID, TASKS_PID = 1_000_000, 1_000_001
CPU_TID = 1_000_000  # + cpu: CPU tracks; task tracks use the task's pid as tid
TASK_STATES = {"R": "Runnable", "S": "Sleeping", "D": "Uninterruptible sleep"}


def _us(ns: int) -> float:
    return ns / 1000


class _PerfettoBuilder:
    """Turns the events into slices: one track per CPU (who ran), one per task
    (running, runnable, sleeping), instants for the other events, flow arrows."""

    def __init__(self, rec: Recorder):
        self.rec = rec
        self.out: list[dict] = []
        self.cpu_run: dict[int, tuple[int, str]] = {}  # cpu -> (since, name)
        self.task_state: dict[int, tuple[int, str]] = {}  # pid -> (since, state)
        self.task_names: dict[int, str] = {}

    def build(self) -> dict:
        events = self.rec.sorted_events()
        for ev in events:
            self.event(ev)
        end = max((ev.ts for ev in events), default=0)
        for cpu in list(self.cpu_run):
            self.close_cpu(cpu, end)
        for pid in list(self.task_state):
            self.set_task(pid, end, None)
        return {
            "traceEvents": self.metadata() + self.out,
            "displayTimeUnit": "ns",
            "otherData": {
                "clock": "emulated instructions, 1 instruction = 1 ns (nominal 1 GHz)",
                "python_call_cost": PYTHON_CALL_COST,
            },
        }

    def metadata(self) -> list[dict]:
        meta = [
            {"ph": "M", "name": "process_name", "pid": CPUS_PID, "args": {"name": "CPUs"}},
            {"ph": "M", "name": "process_name", "pid": TASKS_PID, "args": {"name": "Tasks"}},
        ]
        for cpu in range(len(self.rec.kern.machine.cpus) if self.rec.kern else 0):
            meta += self.thread_name(CPUS_PID, CPU_TID + cpu, f"CPU {cpu}", cpu)
        for pid, name in sorted(self.task_names.items()):
            meta += self.thread_name(TASKS_PID, pid, f"{name} {pid}", pid)
        return meta

    @staticmethod
    def thread_name(pid, tid, name, order) -> list[dict]:
        """A track's name, and its place: CPUs by number, tasks by pid."""
        where = {"ph": "M", "pid": pid, "tid": tid}
        return [
            {**where, "name": "thread_name", "args": {"name": name}},
            {**where, "name": "thread_sort_index", "args": {"sort_index": order}},
        ]

    def slice(self, pid, tid, name, start, end, cat, args=None) -> None:
        ev = {"ph": "X", "cat": cat, "name": name, "pid": pid, "tid": tid}
        ev.update(ts=_us(start), dur=_us(end - start))
        if args:
            ev["args"] = args
        self.out.append(ev)

    def close_cpu(self, cpu, ts) -> None:
        since, name = self.cpu_run.pop(cpu)
        self.slice(CPUS_PID, CPU_TID + cpu, name, since, ts, "sched")

    def set_task(self, pid, ts, state) -> None:
        """Task ``pid`` is in ``state`` (None: gone) from ``ts`` on."""
        if pid == 0:
            return
        old = self.task_state.pop(pid, None)
        if old is not None and old[1] != state:
            self.slice(TASKS_PID, pid, old[1], old[0], ts, "task")
        elif old is not None:
            self.task_state[pid] = old
            return
        if state is not None:
            self.task_state[pid] = (ts, state)

    def event(self, ev: Event) -> None:
        f = dict(ev.fields)
        if ev.cpu not in self.cpu_run and ev.name != "sched_switch":
            # Whoever ran on this CPU when recording began: flows need a slice to start in.
            comm = "swapper" if ev.pid == 0 else self.rec.cmdlines.get(ev.pid, "<...>")
            self.cpu_run[ev.cpu] = (ev.ts, f"{comm} {ev.pid}")
        if ev.name == "sched_switch":
            self.switch(ev, f)
        elif ev.name in ("sched_wakeup", "sched_wakeup_new"):
            self.task_names.setdefault(f["pid"], f["comm"])
            if f["success"]:
                self.set_task(f["pid"], ev.ts, "Runnable")
        elif ev.name == "sched_process_fork":
            self.task_names[f["child_pid"]] = f["child_comm"]
        elif ev.name == "sched_process_free":
            self.set_task(f["pid"], ev.ts, None)
        self.instant(ev, f)

    def switch(self, ev: Event, f: dict) -> None:
        cpu, ts = ev.cpu, ev.ts
        if cpu in self.cpu_run:
            self.close_cpu(cpu, ts)
        self.cpu_run[cpu] = (ts, f"{f['next_comm']} {f['next_pid']}")
        prev_state = f["prev_state"]
        after = TASK_STATES.get(prev_state, "Exited" if "x" in prev_state else prev_state)
        self.task_names[f["prev_pid"]] = f["prev_comm"]
        self.task_names[f["next_pid"]] = f["next_comm"]
        self.set_task(f["prev_pid"], ts, None if after == "Exited" else after)
        self.set_task(f["next_pid"], ts, "Running")

    def instant(self, ev: Event, f: dict) -> None:
        """Every event as an instant on its CPU's track, with its fields as args,
        and the flow arrows it starts or ends (bound to the enclosing CPU slice)."""
        where = {"pid": CPUS_PID, "tid": CPU_TID + ev.cpu, "ts": _us(ev.ts)}
        self.out.append({"ph": "i", "s": "t", "cat": "event", "name": ev.name, **where, "args": f})
        for flow, label in ev.flow_out:
            self.out.append({"ph": "s", "cat": "flow", "name": label, "id": flow, **where})
        for flow, label in ev.flow_in:
            self.out.append(
                {"ph": "f", "bp": "e", "cat": "flow", "name": label, "id": flow, **where}
            )


def render_perfetto(rec: Recorder) -> str:
    return json.dumps(_PerfettoBuilder(rec).build(), separators=(",", ":")) + "\n"


# -- Perfetto's own protobuf format (optional: the perfetto package) ----------

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


RENDERERS = {
    "ftrace": render_ftrace,
    "perfetto": render_perfetto,
    "perfetto-proto": render_perfetto_proto,
}
