"""The walk-through: a kernel thread's birth, then every instruction the child
executes from ret_from_fork until it enters do_exit.

``kernel_thread``: the boot task calls kernel_thread() itself.
``kthread_create``: on a booted machine, a caller thread's kthread_run()
request goes through kthreadd (create_kthread -> kernel_thread) to the new
thread, which parks in kthread() until woken, then runs the function.
"""

from dataclasses import dataclass, field

from emu.trace import HEAD, Tracer
from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD, THREAD_SIZE
from kernel_model.exit import do_wait
from kernel_model.kernel import SoftLockup
from kernel_model.kthread import kthread_run
from kernel_model.process_32 import kernel_thread, show_regs_of_frame, task_pt_regs
from kernel_model.task import find_task_by_pid
from kthreadd_emu.errors import UsageError
from kthreadd_emu.options import load_user_image
from kthreadd_emu.scenario import (
    booted_kernel,
    current_task_slots,
    demo_kernel,
    resolve_function,
    run_in_thread,
    run_main,
)

WALK_FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD
STACK_TOP = 256  # bytes of the child's stack kept with each step (walk --svg)


@dataclass
class Walk:
    fn: int
    arg: int
    via: str
    fn_name: str = ""
    built_at: int = 0
    built: dict = field(default_factory=dict)
    built_lines: list = field(default_factory=list)
    task: dict = field(default_factory=dict)
    child_regs: dict = field(default_factory=dict)
    events: list = field(default_factory=list)
    steps: list = field(default_factory=list)  # the head of the trace, with registers
    tail: list = field(default_factory=list)  # its last steps, addresses only
    skipped: int = 0  # steps between the head and the tail
    exit_code: int | None = None  # the kernel's int, signed; None: the thread never exited
    log: list = field(default_factory=list)
    stopped: str | None = None  # why the walk ended before the thread exited (a soft lockup)
    stack_tops: list = field(default_factory=list)  # per step: the top STACK_TOP bytes
    symbols: object = None


class _ChildWatch:
    """Tracer filter: the child, from its first instruction until do_exit begins."""

    def __init__(self, kern, result: Walk, builder_pid: int):
        self.kern, self.result, self.task_addr, self.state = kern, result, None, "before"
        self.builder_pid = builder_pid  # whose kernel_thread() call we show
        self.slots = current_task_slots(kern)

    def __call__(self, cpu, addr):
        # Runs before every instruction: one word read, no task view.
        if self.state == "done" or self.kern.mem.u32(self.slots[cpu]) != self.task_addr:
            return False
        if self.state == "before":
            if addr != self.kern.symbols["ret_from_fork"]:
                return False
            self.state = "on"
        if len(self.result.stack_tops) < HEAD:  # only the head's steps are drawn
            top = self.kern.task(self.task_addr).stack + THREAD_SIZE
            self.result.stack_tops.append(self.kern.mem.read(top - STACK_TOP, STACK_TOP))
        return True

    def born(self, child) -> None:
        k = self.kern
        self.task_addr = child.addr
        self.result.task = _task_record(child)
        self.result.child_regs = task_pt_regs(k, child).values()

    def built(self, regs) -> None:
        k, r = self.kern, self.result
        if k.current(k.this_cpu).pid == self.builder_pid and not r.built:
            r.built_at, r.built = regs.addr, regs.values()
            r.built_lines = show_regs_of_frame(
                k, regs.addr, r.built, k.this_cpu, k.current(k.this_cpu)
            )

    def exited(self, task, code) -> None:
        """do_exit began (called by the thread, or by the oops path)."""
        if task.addr == self.task_addr:
            self.state = "done"
            self.result.exit_code = as_int(code)


def walk(
    fn_spec="answer", arg=21, budget=1_000_000, via="kernel_thread", syntax="att", loads=((), ())
) -> Walk:
    """``loads``: (files to load after the kernel text, the C files' flags)."""
    if via == "kthread_create":
        kern = booted_kernel(1, budget=budget)
    else:
        kern, _ = demo_kernel(budget=budget)
    paths, cflags = loads
    for path in paths:
        load_user_image(kern, path, cflags)
    fn = resolve_function(kern, fn_spec)
    result = Walk(fn=fn, arg=arg, via=via, fn_name=kern.symbols.label(fn), symbols=kern.symbols)
    kern.console = result.log.append
    watch = _ChildWatch(kern, result, builder_pid=2 if via == "kthread_create" else 0)
    kern.register_trace("kernel_thread", lambda regs: watch.built(regs))
    kern.register_trace("do_exit", watch.exited)
    tracer = Tracer(kern.machine, watch, syntax)
    try:
        (_walk_kthread_create if via == "kthread_create" else _walk_kernel_thread)(
            kern, result, watch
        )
    except SoftLockup as err:
        result.stopped = str(err)  # the trace up to here is the answer
    finally:
        tracer.close()
    result.steps, result.tail, result.skipped = tracer.steps, tracer.tail, tracer.skipped
    return result


def as_int(code: int) -> int:
    """An exit code as the kernel's ``int``: 32 bits, signed."""
    code &= 0xFFFFFFFF
    return code - (1 << 32) if code >> 31 else code


def _walk_kernel_thread(kern, result, watch) -> None:
    def main(k, out):
        pid = kernel_thread(k, result.fn, result.arg, WALK_FLAGS)
        if pid < 0:
            raise UsageError(f"kernel_thread failed: {pid}")
        watch.born(find_task_by_pid(k, pid))
        _, code = yield from do_wait(k, pid)
        result.exit_code = as_int(code)

    run_main(kern, main, walk_events(kern))


def _walk_kthread_create(kern, result, watch) -> None:
    def note(text):
        me = kern.current(kern.this_cpu)
        result.events.append(f"[{me.comm.decode()} pid {me.pid} CPU {kern.this_cpu}] {text}")

    def queued(create):
        note(
            f"kthread_create: request at {create.addr:08x} queued on kthread_create_list; "
            "wake_up_process(kthreadd)"
        )

    def served(create):
        note(f"kthreadd: took request {create.addr:08x}; create_kthread -> kernel_thread(kthread)")

    kern.register_trace("kthread_create", queued)
    kern.register_trace("kthreadd_dequeue", served)

    def forked(parent, child):
        if parent.addr == kern.data.kthreadd_task:
            note(f"do_fork: pid {child.pid}, thread.ip = ret_from_fork")
            watch.born(child)

    kern.register_trace("sched_process_fork", forked)

    def main(k, out):
        task = yield from kthread_run(k, result.fn, result.arg, "walker")
        note(f"kthread_run returned task {task:08x}, named 'walker', woken")

    run_in_thread(kern, main, "caller", walk_events(kern))
    kern.run(max_events=walk_events(kern))


def walk_events(kern) -> int:
    """A walk takes a handful of stops; a thread that keeps calling schedule()
    never exhausts the instruction budget, so stops are bounded too."""
    return max(10_000, kern.runtime.budget // 100)


def _task_record(t) -> dict:
    return {
        "pid": t.pid,
        "comm": t.comm.decode(errors="replace"),
        "stack": t.stack,
        "thread_sp": t.thread.sp,
        "thread_ip": t.thread.ip,
    }
