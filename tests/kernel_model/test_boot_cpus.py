"""Boot on an SMP machine: until smp_init() brings the other CPUs online,
every task runs on CPU 0 (the scheduler only places tasks on online CPUs)."""

import pytest

from emu.trace import Tracer
from kernel_model.kernel import Kernel


@pytest.mark.parametrize("seed", [None, 5])
def test_no_task_runs_on_a_cpu_before_it_is_online(seed):
    kern = Kernel(3, seed=seed)
    offline = []

    def want(cpu, addr):
        if not kern.cpu_notifiers.online >> cpu & 1:
            offline.append((cpu, kern.symbols.describe(addr), kern.current(cpu).pid))
        return False

    tracer = Tracer(kern.machine, want)
    try:
        kern.boot()
    finally:
        tracer.close()
    assert kern.cpu_notifiers.online == 0b111
    assert offline == []
