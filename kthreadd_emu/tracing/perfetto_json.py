"""Chrome trace-event JSON, which Perfetto's UI and chrome://tracing open."""

import json

from emu.clock import PYTHON_CALL_COST
from kthreadd_emu.tracing.recorder import (
    POINTER_FIELDS,
    SCHED_EVENTS,
    Event,
    Recorder,
    prev_state_text,
)

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
        end = max(self.rec.end(), max((ev.ts for ev in events), default=0))
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
        f = args(ev)
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
        cat = "sched" if ev.name in SCHED_EVENTS else "trace_printk"
        self.out.append({"ph": "i", "s": "t", "cat": cat, "name": ev.name, **where, "args": f})
        for flow, label in ev.flow_out:
            self.out.append({"ph": "s", "cat": "flow", "name": label, "id": flow, **where})
        for flow, label in ev.flow_in:
            self.out.append(
                {"ph": "f", "bp": "e", "cat": "flow", "name": label, "id": flow, **where}
            )


def args(ev: Event) -> dict:
    """An event's fields as a viewer shows them: prev_state in letters, addresses in hex."""
    f = dict(ev.fields)
    for name in POINTER_FIELDS.intersection(f):
        f[name] = f"{f[name]:#x}"
    if "prev_state" in f:
        f["prev_state"] = prev_state_text(f["prev_state"])
    return f


def render_perfetto(rec: Recorder) -> str:
    return json.dumps(_PerfettoBuilder(rec).build(), separators=(",", ":")) + "\n"
