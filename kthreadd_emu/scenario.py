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
