"""CPU hotplug notifiers and cpu_up (kernel/cpu.c, kernel/notifier.c).

Callbacks run in priority order, higher first; equal priorities keep their
registration order.  Each callback is a generator (it may create kthreads,
which sleeps).
"""

from kernel_model.runtime import might_sleep

CPU_ONLINE = 0x0002
CPU_UP_PREPARE = 0x0003
NOTIFY_OK = 0x0001


def cpu_online_mask(kern) -> int:
    """The CPUs the scheduler may use: the boot CPU, then each one cpu_up() brings up."""
    return kern.cpu_notifiers.online


class CpuNotifiers:
    def __init__(self):
        self.chain: list[tuple[int, int, object]] = []
        self.online = 1  # cpu_online_mask: the boot CPU

    def register_cpu_notifier(self, callback, priority: int) -> None:
        self.chain.append((-priority, len(self.chain), callback))
        self.chain.sort(key=lambda entry: entry[:2])

    @might_sleep
    def notifier_call_chain(self, kern, action: int, cpu: int):
        for _, _, callback in list(self.chain):
            yield from callback(kern, action, cpu)


@might_sleep
def cpu_up(kern, cpu: int):
    """_cpu_up(): prepare, bring the CPU up (the arch's __cpu_up, which returns
    once the CPU has marked itself online), then announce it; 0 or -errno.
    Deviation: a failed bring-up does not send CPU_UP_CANCELED (the threads
    made for the CPU stay parked)."""
    from kernel_model.smpboot import native_cpu_up  # arch/x86 (smp_ops.cpu_up)

    yield from kern.cpu_notifiers.notifier_call_chain(kern, CPU_UP_PREPARE, cpu)
    ret = yield from native_cpu_up(kern, cpu)
    if ret:
        kern.printk(f"_cpu_up: attempt to bring up CPU {cpu} failed")
        return ret
    yield from kern.cpu_notifiers.notifier_call_chain(kern, CPU_ONLINE, cpu)
    return 0
