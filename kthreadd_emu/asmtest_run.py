"""One assembly test on the machine: start the routine as its run line says, watch
it (code hooks at its labels, a write watch on its STACK_END_MAGIC, the kernel's
do_exit and oops tracepoints), then judge what happened against the expectations.

The checks of an `at` line are evaluated inside the code hook, the moment the
thread reaches the label, so memory is read as it is then.  "at return" is the
first moment after the routine's ``ret``: its return address (kernel_thread_helper),
or, when it returns to Python (kthread(), a bare call), the kernel's next step.
"""

from collections import deque
from dataclasses import dataclass, field

from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_WRITE

from emu.disasm import disassemble_one
from emu.memory import PAGE_OFFSET
from kernel_model.consts import (
    CLONE_FILES,
    CLONE_FS,
    IS_ERR,
    PTR_ERR,
    SIGCHLD,
    STACK_END_MAGIC,
)
from kernel_model.exit import do_wait
from kernel_model.headers import percpu_area
from kernel_model.kernel import SoftLockup
from kernel_model.kthread import kthread_bind, kthread_create, kthread_run, kthread_stop
from kernel_model.process_32 import kernel_thread
from kernel_model.runtime import call_guest
from kernel_model.sched import schedule, wake_up_process
from kernel_model.task import end_of_stack, find_task_by_pid
from kthreadd_emu.asmtest_expr import MASK, MAX_STRING, REGISTERS, EvalError
from kthreadd_emu.asmtest_plan import Plan

KERNEL_THREAD_FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD
EVENT_COST = 100  # instructions a scheduling event counts for against the budget
MIN_EVENTS = 1000
TRACE_LENGTH = 16
OVERRUN = "Thread overran stack, or stack corrupted"


@dataclass
class Verdict:
    """What one run gave: ``status`` pass, fail or error, and the lines saying why."""

    status: str
    lines: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)


class Execution:
    """One run of a planned test on a freshly restored machine."""

    def __init__(self, machine, plan: Plan, budget: int, trace: bool = False):
        self.machine, self.kern, self.plan = machine, machine.kern, plan
        self.spec = plan.test.run
        self.budget = self.spec.budget or budget
        self.task = None  # the task running the routine, once it exists
        self.entry = None  # (cpu, esp, return address) when the routine was entered
        self.results: dict[int, tuple[bool, str]] = {}  # id(check) -> outcome
        self.returned = False
        self.exit_code = None
        self.setup_error = None
        self.lockup = self.overrun = None
        self.oopsed = False
        self.failure = None
        self._hooks = []
        self._last = deque(maxlen=TRACE_LENGTH) if trace else None
        # A bare routine runs on a thread bound to its CPU (0 unless the run line says).
        bare = self.spec.mode == "bare"
        self.bind_cpu = 0 if bare and self.spec.cpu is None else self.spec.cpu

    # -- running -------------------------------------------------------------

    def execute(self) -> None:
        kern = self.machine.fresh()
        self.kern = kern
        self.machine.load(self.plan.image)
        kern.runtime.budget = self.budget
        self.log_start = len(kern.log)
        kern.register_trace("do_exit", self._on_exit)
        kern.register_trace("oops", self._on_oops)
        try:
            self._hook_code(self._on_code, self.plan.addresses())
            if self._last is not None:
                self._hook_code(self._on_any, [(PAGE_OFFSET, kern.machine.map.end - 1)])
            kern.spawn(self._runner, self.spec.name)
            self._run_machine()
        finally:
            self._unhook()

    def _run_machine(self) -> None:
        events = max(self.budget // EVENT_COST, MIN_EVENTS)
        try:
            self.kern.run(max_events=events)
        except SoftLockup as err:
            if self.overrun is None:
                self.lockup = str(err)
                if not self.lockup.startswith("BUG: soft lockup"):
                    self.lockup = f"the test did not finish within {events} scheduling events"
        # One test must not stop the others: whatever the model raised is this test's error.
        except Exception as err:  # noqa: BLE001
            self.failure = f"the kernel model failed: {type(err).__name__}: {err}"

    def _runner(self, k):
        """The test's own kernel thread: starts the routine as the run line says."""
        mode = {"kthread": self._kthread, "kernel_thread": self._kernel_thread}
        yield from mode.get(self.spec.mode, self._bare)(k)
        return 0

    def _kthread(self, k):
        spec, name = self.spec, self.spec.name
        # kthread_run unless the thread must be bound or stopped before it is woken.
        woken = spec.cpu is None and spec.stop != "before"
        create = kthread_run if woken else kthread_create
        task = yield from create(k, self.plan.fn, self.plan.arg, "%s", name)
        if not self._started(k, task):
            return
        if spec.stop == "before":
            yield from kthread_stop(k, self.task)
            return
        if not woken:
            wake_up_process(k, self.task)
        if spec.stop == "running":
            while self.entry is None and k.task_alive(self.task):
                yield from schedule(k)
            if k.task_alive(self.task):
                yield from kthread_stop(k, self.task)

    def _started(self, k, task: int) -> bool:
        """Note the new thread (bound if asked); False if it could not be created."""
        if IS_ERR(task):
            self.setup_error = f"kthread_create failed with {PTR_ERR(task)}"
            return False
        self._set_task(k.task(task))
        if self.bind_cpu is not None:
            kthread_bind(k, self.task, self.bind_cpu)
        return True

    def _kernel_thread(self, k):
        pid = kernel_thread(k, self.plan.fn, self.plan.arg, KERNEL_THREAD_FLAGS)
        if pid < 0:
            self.setup_error = f"kernel_thread failed with {pid}"
            return
        self._set_task(find_task_by_pid(k, pid))
        _, self.exit_code = yield from do_wait(k, pid)

    def _bare(self, k):
        """A thread bound to the CPU whose (Python) body calls the routine once."""
        token = max(k.spawned, default=0) + 1
        k.spawned[token] = (self.spec.name, self._bare_body)
        task = yield from kthread_create(k, k.symbols["python_thread"], token, "%s", self.spec.name)
        if self._started(k, task):
            wake_up_process(k, self.task)

    def _bare_body(self, k):
        if k.this_cpu != self.bind_cpu:
            self.setup_error = f"the thread runs on CPU {k.this_cpu}, not CPU {self.bind_cpu}"
            return 0
        result = yield from call_guest(self.plan.fn, self.plan.arg)
        self._returned(k.this_cpu)
        return result

    def _set_task(self, task) -> None:
        self.task = task
        magic = end_of_stack(task)
        for cpu in self.kern.machine.cpus:
            handle = cpu.uc.hook_add(UC_HOOK_MEM_WRITE, self._on_magic, cpu, magic, magic + 3)
            self._hooks.append((cpu, handle))

    # -- hooks and tracepoints -------------------------------------------------

    def _hook_code(self, callback, ranges) -> None:
        for cpu in self.kern.machine.cpus:
            for begin, end in ranges:
                self._hooks.append((cpu, cpu.uc.hook_add(UC_HOOK_CODE, callback, cpu, begin, end)))

    def _unhook(self) -> None:
        for cpu, handle in self._hooks:
            cpu.uc.hook_del(handle)
        self._hooks.clear()

    def _ours(self, cpu_index: int) -> bool:
        return self.task is not None and self.kern.current(cpu_index).addr == self.task.addr

    def _on_code(self, uc, addr, size, cpu) -> None:
        if not self._ours(cpu.index):
            return
        if addr == self.plan.fn and self.entry is None:
            self._entered(cpu)
        if addr == self._return_site():
            self._returned(cpu.index)
        for check in self.plan.at_label.get(addr, ()):
            if id(check) not in self.results:
                self.results[id(check)] = check.expr.evaluate(_Env(self, cpu))

    def _entered(self, cpu) -> None:
        esp = cpu.read("esp")
        self.entry = (cpu.index, esp, self.kern.mem.u32(esp))
        site = self._return_site()
        if self.plan.at_return and site != self.kern.machine.map.py_ret:
            self._hook_code(self._on_code, [(site, site)])

    def _return_site(self):
        return None if self.entry is None else self.entry[2]

    def _returned(self, cpu_index: int) -> None:
        """Evaluate the `at return` checks if this CPU has just returned from the routine."""
        cpu = self.kern.machine.cpus[cpu_index]
        if self.returned or self.entry is None or not self._ours(cpu_index):
            return
        if cpu.read("eip") != self.entry[2] or cpu.read("esp") != self.entry[1] + 4:
            return
        self.returned = True
        for check in self.plan.at_return:
            self.results[id(check)] = check.expr.evaluate(_Env(self, cpu))

    def _on_exit(self, task, code) -> None:
        if self.task is not None and task.addr == self.task.addr:
            self.exit_code = code
            self._returned(self.kern.this_cpu)

    def _on_oops(self, task, fault) -> None:
        self.oopsed = True
        if self.task is not None and self.kern.mem.u32(end_of_stack(self.task)) != STACK_END_MAGIC:
            self.overrun = self.overrun or f"{OVERRUN} (found by the oops)"

    def _on_magic(self, uc, access, address, size, value, cpu) -> None:
        """A write is about to clobber the thread's STACK_END_MAGIC: stop right there."""
        if self.overrun is None:
            eip = cpu.read("eip")
            self.overrun = (
                f"{OVERRUN}: the write at {eip:08x} ({self.kern.symbols.describe(eip)}) "
                f"reached STACK_END_MAGIC at {address:08x}, esp {cpu.read('esp'):08x}"
            )
        uc.emu_stop()

    def _on_any(self, uc, addr, size, cpu) -> None:
        """Record the thread's instructions until it is done with the routine."""
        if self.returned or self.exit_code is not None or not self._ours(cpu.index):
            return
        # A blocking Python call's thunk runs again on resume: show it once.
        if not self._last or self._last[-1] != (cpu.index, addr):
            self._last.append((cpu.index, addr))

    # -- judging ---------------------------------------------------------------

    def verdict(self) -> Verdict:
        if self.setup_error or self.failure:
            line = self.spec.line
            where = f"{self.plan.test.path}:{line}"
            return Verdict("error", [f"{where}: {self.setup_error or self.failure}"])
        lines = self._outcome_lines() + self._check_lines()
        return Verdict("fail" if lines else "pass", lines)

    def outcome(self) -> tuple[str, str]:
        """What became of the thread: (kind, report) with kind clean, oops, lockup, overrun."""
        if self.overrun:
            return "overrun", self.overrun
        if self.lockup:
            return "lockup", self.lockup
        if self.oopsed:
            return "oops", "\n".join(self.kern.log[self.log_start :])
        if self.exit_code is None and self.task is not None:
            return "lockup", (
                f"the thread never exited: every CPU went idle with it in state {self.task.state}"
            )
        return "clean", ""

    def _outcome_lines(self) -> list[str]:
        kind, report = self.outcome()
        if not self.plan.outcomes:
            return [] if kind == "clean" else [f"unexpected {kind}:"] + _indent(report)
        lines = []
        for expected in self.plan.outcomes:
            if kind != expected.outcome or expected.pattern not in report:
                lines.append(f"{self._where(expected)}: {expected.text}")
        if lines:
            got = "the thread exited cleanly" if kind == "clean" else f"{kind}:"
            lines += [f"  but {got}"] + _indent(report)
        return lines

    def _check_lines(self) -> list[str]:
        lines = []
        for check in self.plan.test.checks:
            if check.outcome is not None:
                continue
            if check.where is None:
                holds, seen = check.expr.evaluate(_Env(self, None))
            else:
                holds, seen = self.results.get(id(check), (False, f"never reached {check.where}"))
            if not holds:
                lines += [f"{self._where(check)}: {check.text}", f"  {seen}"]
        return lines

    def _where(self, check) -> str:
        return f"{self.plan.test.path}:{check.line}"

    def last_instructions(self) -> list[str]:
        kern, out = self.kern, []
        for cpu, addr in self._last or ():
            name = kern.machine.python_functions.get(addr)
            if name is not None:
                text = f"[python] {name}"
            else:
                text = disassemble_one(kern.mem.read(addr, 16), addr, symbols=kern.symbols).text
            out.append(f"CPU{cpu} {addr:08x} {kern.symbols.describe(addr):<28} {text}")
        return out


def _indent(report: str) -> list[str]:
    return ["  " + line for line in report.split("\n") if line]


class _Env:
    """What an expectation can see: at a label (``cpu`` given) or after the run."""

    def __init__(self, run: Execution, cpu):
        self.run, self.cpu = run, cpu
        self.constant_names = run.plan.names

    def name(self, name: str) -> int:
        run = self.run
        if name in REGISTERS:
            return self.cpu.read(name)
        if name == "exit":
            if run.exit_code is None:
                raise EvalError("the thread did not exit")
            return run.exit_code
        if name in ("current", "stack", "cpu"):
            return self._task_value(name)
        return run.plan.names[name]

    def _task_value(self, name: str) -> int:
        run = self.run
        if run.task is None:
            raise EvalError(f"{name}: the thread was never created")
        if name == "cpu":
            if self.cpu is not None:
                return self.cpu.index
            if run.entry is None:
                raise EvalError("cpu: the routine never ran")
            return run.entry[0]
        return run.task.addr if name == "current" else run.task.stack

    def read(self, addr: int, size: int) -> bytes:
        addr &= MASK
        mem = self.run.kern.mem
        if not mem.contains(addr, size):
            raise EvalError(f"address {addr:#010x} is outside RAM")
        return mem.read(addr, size)

    def string(self, addr: int) -> bytes:
        """The C string at ``addr`` (at most MAX_STRING bytes, within RAM)."""
        end = self.run.kern.mem.map.end
        return self.read(addr, max(1, min(MAX_STRING, end - (addr & MASK)))).split(b"\0", 1)[0]

    def ptregs(self, field_name: str) -> int:
        run = self.run
        frame = None if run.task is None else run.kern.fork_frames.get(run.task.pid)
        if frame is None:
            raise EvalError("ptregs: the thread was never created")
        return frame[field_name]

    def per_cpu(self, addr: int, cpu: int) -> int:
        m = self.run.kern.machine.map
        if not 0 <= cpu < len(self.run.kern.machine.cpus):
            raise EvalError(f"per_cpu: there is no CPU {cpu}")
        if not 0 <= addr - m.percpu < percpu_area.SIZE:
            raise EvalError(f"per_cpu: {addr:#010x} is not a per-CPU variable")
        return addr - m.percpu + m.percpu_copy(cpu)
