"""Benchmarks.  Each figure is measured in this process next to the baseline, a
bare ``emu_start`` over a 2-instruction block, so ratios hold on a noisy machine."""

import time

from unicorn import UC_ARCH_X86, UC_MODE_32, UC_PROT_ALL, Uc

from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD
from kernel_model.exit import do_wait
from kernel_model.process_32 import kernel_thread
from kthreadd_emu.scenario import demo_kernel, run_main


def _rate(func, count: int) -> float:
    """Calls per second of ``func(count)``, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        func(count)
        best = min(best, time.perf_counter() - start)
    return count / best


def unicorn_round_trips(count: int) -> None:
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0x1000, 0x1000, UC_PROT_ALL)
    uc.mem_write(0x1000, b"\x90\x90")
    for _ in range(count):
        uc.emu_start(0x1000, 0x1002)


def kernel_thread_lifecycles(count: int) -> None:
    """kernel_thread -> assembly thread function -> do_exit -> reaped by the parent."""
    kern, image = demo_kernel()
    fn = image.symbols["answer"]

    def main(k, out):
        for i in range(count):
            pid = kernel_thread(k, fn, i, CLONE_FS | CLONE_FILES | SIGCHLD)
            yield from do_wait(k, pid)

    run_main(kern, main)


def run_benchmarks(quick: bool = False) -> dict:
    n = 2_000 if quick else 20_000
    round_trips = _rate(unicorn_round_trips, n * 5)
    lifecycles = _rate(kernel_thread_lifecycles, n // 10)
    return {
        "unicorn_round_trips_per_s": round_trips,
        "kernel_thread_lifecycles_per_s": lifecycles,
        "kernel_thread_lifecycle_cost_in_round_trips": round_trips / lifecycles,
    }
