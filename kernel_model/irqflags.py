"""Interrupt flag of the running CPU (arch/x86/include/asm/irqflags.h).

There are no interrupts to mask here, but the flag is real: these write
EFLAGS.IF of the emulated CPU, so guest code (switch_to's pushfl, a new
task's first instruction) sees what the kernel's would.
"""

from kernel_model.consts import X86_EFLAGS_IF


def local_irq_disable(kern) -> None:
    """cli"""
    kern.machine.cpus[kern.this_cpu].update_eflags(clear=X86_EFLAGS_IF)


def local_irq_enable(kern) -> None:
    """sti"""
    kern.machine.cpus[kern.this_cpu].update_eflags(add=X86_EFLAGS_IF)
