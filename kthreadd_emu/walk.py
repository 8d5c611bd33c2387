"""The walk-through: kernel_thread from the boot task, then every instruction
the child executes from ret_from_fork until it enters do_exit."""

from dataclasses import dataclass, field

from emu.trace import Tracer
from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD
from kernel_model.exit import do_wait
from kernel_model.process_32 import kernel_thread, show_regs_of_frame, task_pt_regs
from kernel_model.task import find_task_by_pid
from kthreadd_emu.errors import UsageError
from kthreadd_emu.scenario import demo_kernel, resolve_function, run_main

WALK_FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD


@dataclass
class Walk:
    fn: int
    arg: int
    parent_pid: int = 0
    built_at: int = 0
    built: dict = field(default_factory=dict)
    built_lines: list = field(default_factory=list)
    task: dict = field(default_factory=dict)
    child_regs: dict = field(default_factory=dict)
    steps: list = field(default_factory=list)
    exit_code: int | None = None
    log: list = field(default_factory=list)


class _ChildWatch:
    """Tracer filter: from the child's first instruction until do_exit's thunk."""

    def __init__(self, kern):
        self.kern, self.task_addr, self.state = kern, None, "before"

    def __call__(self, cpu, addr):
        if self.state == "done" or self.kern.current(cpu).addr != self.task_addr:
            return False
        if self.state == "before":
            if addr != self.kern.symbols["ret_from_fork"]:
                return False
            self.state = "on"
        return True

    def exited(self, task, code):
        """do_exit began (called by the thread, or by the oops path): stop recording."""
        if task.addr == self.task_addr:
            self.state = "done"


def walk(fn_spec: str = "answer", arg: int = 21, budget: int = 1_000_000) -> Walk:
    kern, _ = demo_kernel(budget=budget)
    result = Walk(fn=resolve_function(kern, fn_spec), arg=arg)
    kern.console = result.log.append
    watch = _ChildWatch(kern)
    tracer = Tracer(kern.machine, watch)

    def built(regs):
        result.built_at, result.built = regs.addr, regs.values()
        result.built_lines = show_regs_of_frame(kern, regs, kern.this_cpu, kern.current(kern.this_cpu))

    kern.register_trace("kernel_thread", built)
    kern.register_trace("do_exit", watch.exited)

    def main(k, out):
        pid = kernel_thread(k, result.fn, arg, WALK_FLAGS)
        child = find_task_by_pid(k, pid)
        if child is None:
            raise UsageError(f"kernel_thread failed: {pid}")
        watch.task_addr = child.addr
        result.task = _task_record(child)
        result.child_regs = task_pt_regs(k, child).values()
        _, result.exit_code = yield from do_wait(k, pid)

    try:
        run_main(kern, main)
    finally:
        tracer.close()
    result.steps = tracer.steps
    return result


def _task_record(t) -> dict:
    return {
        "pid": t.pid,
        "comm": t.comm.decode(errors="replace"),
        "stack": t.stack,
        "thread_sp": t.thread.sp,
        "thread_ip": t.thread.ip,
    }
