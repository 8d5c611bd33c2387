"""The recorder: the kernel's tracepoints and our own events, as ``Event`` tuples
stamped with the emulated clock (see the package's docstring)."""

import functools
from typing import NamedTuple

from emu.clock import InstructionClock
from kernel_model.process_32 import task_pt_regs
from kernel_model.sched import task_cpu
from kernel_model.traps import fault_header
from kthreadd_emu.errors import UsageError

NS_PER_INSN = 1  # nominal 1 GHz
# __print_flags of sched_switch's prev_state in 2.6.32; 0 prints as "R".
STATE_FLAGS = ((1, "S"), (2, "D"), (4, "T"), (8, "t"), (16, "Z"), (32, "X"), (64, "x"), (128, "W"))
# 2.6.32's tracepoints (include/trace/events/sched.h, in its order) ...
SCHED_EVENTS = (
    "sched_kthread_stop",
    "sched_kthread_stop_ret",
    "sched_wait_task",
    "sched_wakeup",
    "sched_wakeup_new",
    "sched_switch",
    "sched_migrate_task",
    "sched_process_free",
    "sched_process_exit",
    "sched_process_wait",
    "sched_process_fork",
)
# ... and our own events, where 2.6.32 has no tracepoint: the ftrace text prints
# them as trace_printk() lines, so that nobody takes them for the kernel's.
OWN_EVENTS = (
    "kthread_create",
    "kthreadd_dequeue",
    "complete",
    "wait_for_completion_sleep",
    "wait_for_completion_wake",
    "oops",
)


class RecordError(UsageError):
    """A recording cannot be saved as asked (an unknown format, a missing package)."""


# Each event's fields, in the tracepoint's order (the TP_STRUCT__entry of
# 2.6.32's include/trace/events/sched.h for the scheduler's).
_TASK = ("comm", "pid", "prio")
_WAKEUP = (*_TASK, "success", "cpu")
FIELDS = {
    "sched_kthread_stop": ("comm", "pid"),
    "sched_kthread_stop_ret": ("ret",),
    "sched_wait_task": _TASK,
    "sched_process_wait": _TASK,
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
# Fields that hold an address (the renderers show them in hex).
POINTER_FIELDS = frozenset({"create", "data", "x", "address"})


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
    """start(kern) ... stop(), then formats.save_trace(): what a debugger drives too."""

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
        self._end = 0  # the latest CPU's time when recording last stopped

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
        if self.kern is not None and self.recording:
            self._end = self._latest()
            self.clock.stop()
            self._probes(self.kern.unregister_trace)
        self.recording = False

    def _probes(self, action) -> None:
        for name in SCHED_EVENTS + OWN_EVENTS:
            action(name, getattr(self, "_on_" + name))

    # -- the clock -----------------------------------------------------------

    def now(self, cpu: int) -> int:
        return (self.clock.counts[cpu] + self._offset[cpu]) * NS_PER_INSN

    def end(self) -> int:
        """When the recording ends: at its last stop, or now while it runs.  The
        run goes on after the last event (a thread spinning 1.5 M instructions
        fires none), so this is the latest CPU's time, not the last event's."""
        return self._latest() if self.recording else self._end

    def _latest(self) -> int:
        return max(self.now(cpu) for cpu in range(len(self._offset)))

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
                prev.state,
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

    def _on_sched_wait_task(self, p):
        self._emit("sched_wait_task", self._task_values(p))

    def _on_sched_kthread_stop(self, t):
        self._emit("sched_kthread_stop", (comm_of(t), t.pid))

    def _on_sched_kthread_stop_ret(self, ret):
        self._emit("sched_kthread_stop_ret", (ret,))

    def _on_sched_process_wait(self, pid):
        # The waiter's comm and prio (current's), the pid waited for: TP_fast_assign's.
        me = self.kern.current(self.kern.this_cpu)
        self._emit("sched_process_wait", (comm_of(me), pid, me.prio), me)

    def _on_kthread_create(self, create):
        flow = self._flow()
        values = (create.addr, self.kern.symbols.label(create.threadfn), create.data)
        ev = self._emit("kthread_create", values, flow_out=((flow, "kthread_create"),))
        self._requests[create.addr] = (ev.ts, flow)

    def _on_kthreadd_dequeue(self, create):
        queued = self._requests.get(create.addr, (0, None))[0]
        self._not_before(self.kern.this_cpu, queued + NS_PER_INSN)
        self._emit("kthreadd_dequeue", (create.addr, self.kern.symbols.label(create.threadfn)))

    def _on_complete(self, x):
        self._emit("complete", (x.addr, x.done))

    def _on_wait_for_completion_sleep(self, x):
        self._emit("wait_for_completion_sleep", (x.addr,))

    def _on_wait_for_completion_wake(self, x):
        self._emit("wait_for_completion_wake", (x.addr,))

    def _on_oops(self, task, fault):
        where = self.kern.symbols.describe_sized(fault.eip)
        self._emit("oops", (where, fault.kind, fault.address, fault_header(fault)[1]))

    # -- output --------------------------------------------------------------

    def sorted_events(self) -> list[Event]:
        """By time; events at the same time keep the order they happened in."""
        return sorted(self.events, key=lambda ev: ev.ts)
