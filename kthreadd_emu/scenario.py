"""Machines the commands share: a kernel with the demo thread functions loaded."""

import struct
from pathlib import Path

from kernel_model.headers import percpu_area
from kernel_model.kernel import ASM_DIR, Kernel
from kernel_model.percpu import per_cpu
from kernel_model.process_32 import task_pt_regs
from kernel_model.ptrace import PT_REGS_FIELDS
from kthreadd_emu.errors import WORD_MAX, UsageError, parse_int

DEMO_SOURCE = Path(ASM_DIR) / "demo_threads.S"
SETTLE_EVENTS = 1_000_000


def demo_kernel(ncpus: int = 1, budget: int = 1_000_000, console=None):
    """A kernel with asm/demo_threads.S loaded; returns (kernel, image)."""
    kern = Kernel(ncpus, console=console, budget=budget)
    return kern, kern.load_asm(DEMO_SOURCE)


def resolve_function(kern, spec: str) -> int:
    """A thread function given by symbol name or by address."""
    if spec in kern.symbols:
        return kern.symbols[spec]
    if spec[:1].isdigit():
        return parse_int(spec, "--fn", 0, WORD_MAX)
    raise UsageError(
        f"unknown thread function {spec!r} (a symbol of {DEMO_SOURCE.name} or an address)"
    )


def current_task_slots(kern) -> list[int]:
    """The address of each CPU's ``per_cpu__current_task``: per-instruction hooks
    compare one word there instead of building a task view."""
    slot = percpu_area.OFFSETS["current_task"]
    return [per_cpu(kern, cpu.index).addr + slot for cpu in kern.machine.cpus]


def run_main(kern, main, max_events=None) -> dict:
    """Boot ``kern`` with ``main(kern, out)`` as init_task's code; returns ``out``
    once main has finished (SoftLockup past ``max_events`` stops)."""
    out: dict = {}

    def boot(k):
        yield from main(k, out)
        out["done"] = True

    kern.start(boot)
    kern.run(until=lambda: "done" in out, max_events=max_events)
    return out


def booted_kernel(
    ncpus: int = 3, profile: str = "rhel6", seed=None, budget: int = 1_000_000, before_boot=None
):
    """A kernel booted as Linux boots (kernel_init, kthreadd, per-CPU threads), all idle,
    with asm/demo_threads.S loaded; ``before_boot(kern)`` runs just before it boots."""
    kern = Kernel(ncpus, seed=seed, budget=budget)
    kern.demo = kern.load_asm(DEMO_SOURCE)
    record_fork_frames(kern)
    if before_boot is not None:
        before_boot(kern)
    kern.boot(profile)
    return kern


def record_fork_frames(kern) -> None:
    """Keep each child's pt_regs as copy_thread left it (a trace event at fork):
    once a thread runs, iret pops that frame and its stack grows over it."""
    kern.fork_frames = {}

    def forked(parent, child):
        # 68 raw bytes: a stress run keeps one per pid ever used.
        kern.fork_frames[child.pid] = task_pt_regs(kern, child).raw()

    kern.register_trace("sched_process_fork", forked)


def fork_frame(kern, pid: int) -> dict | None:
    """The pt_regs of ``pid`` as copy_thread left it, by field name (None if unknown)."""
    raw = kern.fork_frames.get(pid)
    if raw is None:
        return None
    return dict(zip(PT_REGS_FIELDS, struct.unpack(f"<{len(PT_REGS_FIELDS)}I", raw), strict=True))


def run_in_thread(kern, main, name: str = "python", max_events=None) -> dict:
    """Run ``main(kern, out)`` in a new kernel thread of a booted kernel until it returns."""
    out: dict = {}

    def body(k):
        result = yield from main(k, out)
        out["done"] = True
        return result or 0

    kern.run(
        until=lambda: kern.current(0).addr == kern.data.init_task.addr, max_events=SETTLE_EVENTS
    )
    kern.spawn(body, name)
    if not kern.run(until=lambda: "done" in out, max_events=max_events):
        raise RuntimeError(f"{name}: every CPU went idle before the thread finished")
    return out
