"""Bringing a secondary CPU up (arch/x86/kernel/smpboot.c, 2.6.32): kernel_init
(pid 1) runs it, in smp_init() -> cpu_up() -> native_cpu_up().

do_boot_cpu() forks the CPU's idle task (fork_idle: pid 0, real_parent pid 1)
right there in pid 1, since keventd is not up yet, and points the CPU at it.
The CPU starts in start_secondary() on the idle task's stack, marks itself
online and enters cpu_idle(); native_cpu_up() waits for that.  Deviation:
no INIT/SIPI, trampoline or real-mode start: the CPU's context is already in
protected mode with its GDT (cpu_init at machine start).
"""

from kernel_model.consts import IS_ERR, PTR_ERR
from kernel_model.cpu import cpu_online_mask
from kernel_model.init_task import fork_idle
from kernel_model.percpu import per_cpu
from kernel_model.runtime import RELAX, might_sleep
from kernel_model.sched import cpu_idle


@might_sleep
def start_secondary(kern):
    """The new CPU's first C code (as its idle task): online, then the idle loop."""
    kern.cpu_notifiers.online |= 1 << kern.this_cpu  # set_cpu_online(cpu, true)
    yield from cpu_idle(kern)


def do_boot_cpu(kern, cpu: int) -> int:
    """Fork the idle task (keventd is not up: do_fork_idle's work runs here) and
    start the CPU on it; 0 or -errno."""
    idle = fork_idle(kern, cpu)
    if isinstance(idle, int) and IS_ERR(idle):
        kern.printk(f"failed fork for CPU {cpu}")
        return PTR_ERR(idle)
    per_cpu(kern, cpu).current_task = idle.addr
    # stack_start.sp = idle->thread.sp, initial_code = start_secondary.
    kern.runtime.start_root(idle, start_secondary(kern), idle.thread.sp)
    kern.runtime.resume(cpu)
    return 0


@might_sleep
def native_cpu_up(kern, cpu: int):
    """Boot ``cpu`` and wait until it is online; 0 or -errno."""
    err = do_boot_cpu(kern, cpu)
    if err:
        return err
    while not cpu_online_mask(kern) >> cpu & 1:
        yield RELAX  # cpu_relax(): the new CPU runs meanwhile
    return 0
