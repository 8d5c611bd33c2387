"""Machines the commands share: a kernel with the demo thread functions loaded."""

from pathlib import Path

from kernel_model.kernel import ASM_DIR, Kernel
from kthreadd_emu.errors import UsageError, parse_int

DEMO_SOURCE = Path(ASM_DIR) / "demo_threads.S"


def demo_kernel(ncpus: int = 1, budget: int = 1_000_000, console=None):
    """A kernel with asm/demo_threads.S loaded; returns (kernel, image)."""
    kern = Kernel(ncpus, console=console, budget=budget)
    return kern, kern.load_asm(DEMO_SOURCE)


def resolve_function(kern, spec: str) -> int:
    """A thread function given by symbol name or by address."""
    if spec in kern.symbols:
        return kern.symbols[spec]
    if spec[:1].isdigit():
        return parse_int(spec) & 0xFFFFFFFF
    raise UsageError(f"unknown thread function {spec!r} (a symbol of {DEMO_SOURCE.name} or an address)")


def run_main(kern, main) -> dict:
    """Boot ``kern`` with ``main(kern, out)`` as init_task's code; returns ``out``
    once main has finished."""
    out: dict = {}

    def boot(k):
        yield from main(k, out)
        out["done"] = True

    kern.start(boot)
    kern.run(until=lambda: "done" in out)
    return out


def demo_machine(arg: int = 21):
    """A kernel in which the boot task has just created a kernel thread running
    ``answer(arg)`` that has not run yet: its pt_regs is as copy_thread left it."""
    from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD
    from kernel_model.process_32 import kernel_thread

    kern, image = demo_kernel()

    def main(k, out):
        out["pid"] = kernel_thread(k, image.symbols["answer"], arg, CLONE_FS | CLONE_FILES | SIGCHLD)
        yield from ()

    run_main(kern, main)
    return kern


def booted_kernel(ncpus: int = 3, profile: str = "rhel6", seed=None, budget: int = 1_000_000):
    """A kernel booted as Linux boots (kernel_init, kthreadd, per-CPU threads), all idle,
    with asm/demo_threads.S loaded."""
    kern = Kernel(ncpus, seed=seed, budget=budget)
    kern.demo = kern.load_asm(DEMO_SOURCE)
    kern.boot(profile)
    return kern


def run_in_thread(kern, main, name: str = "python") -> dict:
    """Run ``main(kern, out)`` in a new kernel thread of a booted kernel until it returns."""
    out: dict = {}

    def body(k):
        result = yield from main(k, out)
        out["done"] = True
        return result or 0

    kern.spawn(body, name)
    kern.run(until=lambda: "done" in out)
    return out
