"""panic() for C code, and the stack protector's __stack_chk_fail (mirror
kernel/panic.c, 2.6.32; dump_stack is arch/x86/kernel/dumpstack.c's).

gcc's -fstack-protector (on i386 the canary is %gs:20, this CPU's
stack_canary) calls __stack_chk_fail when a function's canary changed
before it returned: the kernel then panics, naming where it was called from.
"""

from kernel_model.process_32 import UTS_RELEASE, UTS_VERSION, print_tainted
from kernel_model.runtime import guest_callable
from kernel_model.sched import current
from kernel_model.traps import call_trace
from kernel_model.traps import panic as _panic
from kernel_model.vsprintf import VaList, format_at, stack_arguments


def dump_stack(kern, sp: int) -> None:
    """The current task and the stack's call trace (CONFIG_DEBUG_BUGVERBOSE)."""
    me = current(kern)
    kern.printk(f"Pid: {me.pid}, comm: {me.comm.decode(errors='replace')} "
                f"{print_tainted(kern)} {UTS_RELEASE} {UTS_VERSION.split(' ')[0]}")  # fmt: skip
    kern.printk("Call Trace:")
    for line in call_trace(kern, sp):
        kern.printk(line)


def panic_from_c(kern, message: str):
    """The panic line, the stack, and the machine stops (KernelPanic): traps.panic
    prints its line and raises; the stack dump follows the line, as in 2.6.32."""
    sp = stack_arguments(kern)
    try:
        _panic(kern, message.rstrip("\n"))
    finally:
        dump_stack(kern, sp)


@guest_callable(noreturn=True)
def panic(kern):
    """NORET_TYPE void panic(const char *fmt, ...)"""
    sp = stack_arguments(kern)
    panic_from_c(kern, format_at(kern, kern.mem.u32(sp), VaList(kern.mem, sp + 4)).decode(
        errors="replace"))  # fmt: skip


@guest_callable(noreturn=True)
def __stack_chk_fail(kern):
    """void __stack_chk_fail(void): panic("stack-protector: Kernel stack is corrupted
    in: %p\\n", __builtin_return_address(0))."""
    where = kern.mem.u32(stack_arguments(kern) - 4)
    panic_from_c(kern, f"stack-protector: Kernel stack is corrupted in: {where:08x}")
