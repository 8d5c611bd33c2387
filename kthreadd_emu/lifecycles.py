"""Many short kernel threads through the whole path: kthread_run -> kthreadd ->
the thread runs an assembly function -> it exits and is reaped."""

import time
from dataclasses import dataclass

from kernel_model.consts import IS_ERR
from kernel_model.kthread import kthread_run
from kernel_model.sched import schedule
from kthreadd_emu.progress import NULL
from kthreadd_emu.scenario import run_in_thread


@dataclass
class StressResult:
    created: int
    failed: int
    seconds: float
    pids: list


def stress(kern, total: int, alive: int, keep_pids: bool = False, bar=NULL) -> StressResult:
    """Create ``total`` threads running ``answer``, at most ``alive`` at a time
    (``bar``, a kthreadd_emu.progress bar, advances by one per thread created)."""
    fn = kern.demo.symbols["answer"]
    pids: list[int] = []
    if keep_pids:
        kern.register_trace("sched_process_fork", lambda parent, child: pids.append(child.pid))
    base = kern.data.nr_threads
    counts = {"created": 0, "failed": 0}

    def main(k, out):
        for i in range(total):
            while k.data.nr_threads - base > alive:
                yield from schedule(k)
            task = yield from kthread_run(k, fn, i, "stress/%d", i)
            counts["failed" if IS_ERR(task) else "created"] += 1
            bar.advance()
        while k.data.nr_threads - base > 1:
            yield from schedule(k)

    start = time.perf_counter()
    run_in_thread(kern, main, "stress")
    kern.run(max_events=1_000_000)
    return StressResult(counts["created"], counts["failed"], time.perf_counter() - start, pids)
