"""One assembly test on the machine: start the routine as its run line says and
watch it, with code hooks at its labels, a write watch on its STACK_END_MAGIC,
and the kernel's do_exit and oops tracepoints (asmtest/judge.py then decides).

The checks of an `at` line are evaluated inside the code hook, the moment the
thread reaches the label, so memory is read as it is then; a label's hook is
removed once nothing waits for it, so a label inside a loop costs nothing
after the first pass.  "at return" is the first moment after the routine's
``ret``: at its return address (in kernel_thread_helper), or, when it returns
to Python (kthread(), a bare call), at the kernel's next step.
"""

from collections import deque

from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_WRITE

from emu.memory import PAGE_OFFSET
from kernel_model.consts import CLONE_FILES, CLONE_FS, IS_ERR, PTR_ERR, SIGCHLD, STACK_END_MAGIC
from kernel_model.exit import do_wait
from kernel_model.kernel_errors import KernelPanic, SoftLockup
from kernel_model.kthread import kthread_create, kthread_run, kthread_stop
from kernel_model.process_32 import kernel_thread
from kernel_model.runtime import call_guest
from kernel_model.sched import kthread_bind, schedule, wake_up_process
from kernel_model.task import end_of_stack, find_task_by_pid
from kthreadd_emu.asmtest.judge import OVERRUN, Env
from kthreadd_emu.asmtest.plan import Plan
from kthreadd_emu.scenario import current_task_slots

KERNEL_THREAD_FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD
EVENT_COST = 100  # instructions a scheduling event counts for against the budget
MIN_EVENTS = 1000
TRACE_LENGTH = 16


class Execution:
    """One run of a planned test on the machine restored to its snapshot."""

    def __init__(self, machine, plan: Plan, budget: int, trace: bool = False):
        self.machine, self.kern, self.plan = machine, machine.kern, plan
        self.spec = plan.test.run
        self.budget = self.spec.budget or budget
        self.task = None  # the task running the routine, once it exists
        self.entry = None  # (cpu, esp, return address) when the routine was entered
        self.results: dict[int, tuple[bool, str]] = {}  # id(check) -> (holds, what was seen)
        self.returned = self.oopsed = False
        self.exit_code = self.setup_error = self.failure = self.lockup = self.overrun = None
        self.log_start = 0
        self.last = deque(maxlen=TRACE_LENGTH) if trace else None
        # A bare routine runs on a thread bound to its CPU (0 unless the run line says).
        self.bind_cpu = 0 if self.spec.mode == "bare" and self.spec.cpu is None else self.spec.cpu
        self._hooks: dict[tuple, int] = {}  # (kind, address) -> hook handle
        self._current_slots: list[int] = []

    def execute(self) -> None:
        self.prepare()
        try:
            self._run_machine()
        finally:
            self.release()

    def prepare(self):
        """The machine restored, the image loaded, the hooks set and the test's
        thread spawned, nothing run yet (the debugger runs it under its engine).
        Returns the kernel."""
        kern = self.kern = self.machine.fresh()
        for image in self.plan.images:
            self.machine.load(image)
        kern.runtime.budget = self.budget
        self.log_start = len(kern.log)
        self._current_slots = current_task_slots(kern)
        kern.register_trace("do_exit", self._on_exit)
        kern.register_trace("oops", self._on_oops)
        try:
            for addr in self.plan.addresses():
                self._hook("code", UC_HOOK_CODE, self._on_code, addr, addr)
            if self.last is not None:
                self._hook("trace", UC_HOOK_CODE, self._on_any, PAGE_OFFSET, kern.mem.map.end - 1)
            kern.spawn(self._runner, self.spec.name)
        except BaseException:
            self.release()
            raise
        return kern

    def release(self) -> None:
        for handle in self._hooks.values():
            self.kern.machine.hook_del(handle)
        self._hooks.clear()

    def _run_machine(self) -> None:
        events = max(self.budget // EVENT_COST, MIN_EVENTS)
        try:
            self.kern.run(max_events=events)
        except KernelPanic:
            self.oopsed = True  # the report, ending in the panic line, is in the log
        except SoftLockup as err:
            if self.overrun is None:
                self.lockup = str(err)
                if not self.lockup.startswith("BUG: soft lockup"):
                    self.lockup = f"the test did not finish within {events} scheduling events"
        # One test must not stop the others: whatever the model raised is this test's error.
        except Exception as err:  # noqa: BLE001
            self.failure = f"the kernel model failed: {type(err).__name__}: {err}"

    # -- the test's kernel threads ----------------------------------------------

    def _runner(self, k):
        """The test's own kernel thread: starts the routine as the run line says."""
        mode = {"kthread": self._kthread, "kernel_thread": self._kernel_thread}
        yield from mode.get(self.spec.mode, self._bare)(k)
        return 0

    def _kthread(self, k):
        spec = self.spec
        # kthread_run, unless the thread must be bound or stopped before it is woken.
        woken = spec.cpu is None and spec.stop != "before"
        create = kthread_run if woken else kthread_create
        task = yield from create(k, *self._fn_arg(), "%s", spec.name)
        if not (yield from self._started(k, task)):
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

    def _fn_arg(self) -> tuple[int, int]:
        return self.plan.fn, self.plan.arg

    def _started(self, k, task: int):
        """Note the new thread (bound if asked); False if it could not be created."""
        if IS_ERR(task):
            self.setup_error = f"kthread_create failed with {PTR_ERR(task)}"
            return False
        self._set_task(k.task(task))
        if self.bind_cpu is not None:
            yield from kthread_bind(k, self.task, self.bind_cpu)
        return True

    def _kernel_thread(self, k):
        pid = kernel_thread(k, *self._fn_arg(), KERNEL_THREAD_FLAGS)
        if pid < 0:
            self.setup_error = f"kernel_thread failed with {pid}"
            return
        self._set_task(find_task_by_pid(k, pid))
        _, self.exit_code = yield from do_wait(k, pid)

    def _bare(self, k):
        """A kthread bound to the CPU, whose (Python) body calls the routine once."""
        token = max(k.spawned, default=0) + 1
        k.spawned[token] = (self.spec.name, self._bare_body)
        python_thread = k.symbols["python_thread"]
        task = yield from kthread_create(k, python_thread, token, "%s", self.spec.name)
        if (yield from self._started(k, task)):
            wake_up_process(k, self.task)

    def _bare_body(self, k):
        if k.this_cpu != self.bind_cpu:
            self.setup_error = f"the thread runs on CPU {k.this_cpu}, not CPU {self.bind_cpu}"
            return 0
        result = yield from call_guest(*self._fn_arg())
        self._returned(k.this_cpu)
        return result

    def _set_task(self, task) -> None:
        self.task = task
        magic = end_of_stack(task)
        self._hook("magic", UC_HOOK_MEM_WRITE, self._on_magic, magic, magic + 3)

    # -- hooks and tracepoints -------------------------------------------------

    def _hook(self, kind: str, hook_type: int, callback, begin: int, end: int) -> None:
        if (kind, begin) not in self._hooks:
            self._hooks[kind, begin] = self.kern.machine.hook_add(hook_type, callback, begin, end)

    def _unhook(self, kind: str, begin: int) -> None:
        handle = self._hooks.pop((kind, begin), None)
        if handle is not None:
            self.kern.machine.hook_del(handle)

    def _ours(self, cpu_index: int) -> bool:
        task = self.task
        return task is not None and self.kern.mem.u32(self._current_slots[cpu_index]) == task.addr

    def _on_code(self, uc, addr, size, cpu) -> None:
        if not self._ours(cpu.index):
            return
        if addr == self.plan.fn and self.entry is None:
            self._entered(cpu)
        site = None if self.entry is None else self.entry[2]
        if addr == site:
            self._returned(cpu.index)
        for check in self.plan.at_label.get(addr, ()):
            if id(check) not in self.results:
                self.results[id(check)] = check.expr.evaluate(Env(self, cpu))
        if addr != site or self.returned:
            self._unhook("code", addr)  # nothing waits for this address any more

    def _entered(self, cpu) -> None:
        esp = cpu.read("esp")
        self.entry = (cpu.index, esp, self.kern.mem.u32(esp))
        site = self.entry[2]
        if self.plan.at_return and site != self.kern.machine.map.py_ret:
            self._hook("code", UC_HOOK_CODE, self._on_code, site, site)

    def _returned(self, cpu_index: int) -> None:
        """Evaluate the `at return` checks if this CPU has just returned from the routine."""
        cpu = self.kern.machine.cpus[cpu_index]
        if self.returned or self.entry is None or not self._ours(cpu_index):
            return
        if cpu.read("eip") != self.entry[2] or cpu.read("esp") != self.entry[1] + 4:
            return
        self.returned = True
        for check in self.plan.at_return:
            self.results[id(check)] = check.expr.evaluate(Env(self, cpu))

    def _on_exit(self, task, code) -> None:
        if self.task is not None and task.addr == self.task.addr:
            self.exit_code = code
            self._returned(self.kern.this_cpu)

    def _on_oops(self, task, fault) -> None:
        self.oopsed = True
        # no_context(): an oops on a task whose stack end is gone says so.
        magic = None if self.task is None else end_of_stack(self.task)
        mem = self.kern.mem
        if magic is not None and mem.contains(magic, 4) and mem.u32(magic) != STACK_END_MAGIC:
            self.overrun = self.overrun or f"{OVERRUN} (found by the oops)"

    def _on_magic(self, uc, access, address, size, value, cpu) -> None:
        """A write is about to clobber the thread's STACK_END_MAGIC: stop right there."""
        if self.overrun is None:
            eip = cpu.read("eip")
            self.overrun = (
                f"{OVERRUN}: the write at {eip:08x} ({self.kern.symbols.describe(eip)}) "
                f"reached STACK_END_MAGIC at {address:08x}, esp {cpu.read('esp'):08x}"
            )
            # The tests' own probe point (no kernel tracepoint): a debugger stops here.
            self.kern.tracepoint("stack_overrun", task=self.task, report=self.overrun)
        uc.emu_stop()

    def _on_any(self, uc, addr, size, cpu) -> None:
        """Record the thread's instructions until it is done with the routine."""
        if self.returned or self.exit_code is not None or not self._ours(cpu.index):
            return
        if addr == self.kern.machine.map.py_ret:
            return  # the return-to-Python trap: not an instruction of the thread
        # A blocking Python call's thunk runs again on resume: show it once.
        if not self.last or self.last[-1] != (cpu.index, addr):
            self.last.append((cpu.index, addr))
