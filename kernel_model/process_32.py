"""kernel_thread, copy_thread and __show_regs (mirrors arch/x86/kernel/process_32.c, 2.6.32)."""

from emu.segment import __KERNEL_CS, __KERNEL_DS, __KERNEL_PERCPU, __KERNEL_STACK_CANARY, __USER_DS
from kernel_model.consts import (
    CLONE_UNTRACED,
    CLONE_VM,
    THREAD_SIZE,
    X86_EFLAGS_IF,
    X86_EFLAGS_PF,
    X86_EFLAGS_SF,
)
from kernel_model.ptrace import pt_regs
from kernel_model.runtime import guest_callable

UTS_RELEASE = "2.6.32"
UTS_VERSION = "#1 SMP"
DMI_PRODUCT = "kthreadd-emu"


def get_kernel_rpl() -> int:
    """0 on bare metal (no paravirt)."""
    return 0


def task_pt_regs(kern, p):
    """The user-return frame at the top of ``p``'s stack (8 bytes reserved above it).

    The 8 bytes keep the whole pt_regs addressable even though a ring-0
    frame has no sp/ss pushed (asm/processor.h)."""
    return pt_regs(kern.mem, p.stack + THREAD_SIZE - 8 - pt_regs.SIZE)


@guest_callable(nargs=3)
def kernel_thread(kern, fn, arg, flags):
    """Create a kernel thread running fn(arg): build a pt_regs and fork around it."""
    from kernel_model.fork import do_fork  # fork.c and process_32.c call each other

    with kern.runtime.stack_local(pt_regs) as regs:
        regs.zero()
        regs.bx = fn
        regs.dx = arg
        regs.ds = __USER_DS
        regs.es = __USER_DS
        regs.fs = __KERNEL_PERCPU
        regs.gs = __KERNEL_STACK_CANARY
        regs.orig_ax = -1
        regs.ip = kern.symbols["kernel_thread_helper"]
        regs.cs = __KERNEL_CS | get_kernel_rpl()
        regs.flags = X86_EFLAGS_IF | X86_EFLAGS_SF | X86_EFLAGS_PF | 0x2
        kern.tracepoint("kernel_thread", regs=regs)
        # Ok, create the new process.
        return do_fork(kern, flags | CLONE_VM | CLONE_UNTRACED, 0, regs, 0, None, None)


def copy_thread(kern, clone_flags, sp, unused, p, regs) -> int:
    """Lay the child's stack out so that switch_to lands in ret_from_fork.

    Top of the child's 8 KiB stack (T = p->stack)::

        T+0x2000  ------------------------
                  8 reserved bytes
        T+0x1ff8  <- thread.sp0 (childregs + 1)
                  pt_regs copy, ax = 0      (popped by ret_from_fork's
        T+0x1fb4  <- thread.sp               RESTORE_REGS and iret)
                  (free stack)
        T+0x0000  thread_info, then STACK_END_MAGIC

    There is no switch frame below the pt_regs: a new task is entered by
    __switch_to's ``ret`` to thread.ip = ret_from_fork (asm/entry_32.S).
    """
    childregs = task_pt_regs(kern, p)
    childregs.copy_from(regs)
    childregs.ax = 0
    childregs.sp = sp
    p.thread.sp = childregs.addr
    p.thread.sp0 = childregs.addr + pt_regs.SIZE
    p.thread.ip = kern.symbols["ret_from_fork"]
    # task_user_gs(p) = get_user_gs(regs): with the stack protector gs is not
    # lazy, so its home is the pt_regs slot; thread.gs keeps init_task's 0.
    childregs.gs = regs.gs & 0xFFFF
    return 0


def print_tainted(kern) -> str:
    return "Tainted: G      D   " if kern.tainted else "Not tainted"


def __show_regs(kern, regs: dict, sp: int, ss: int, cpu: int, task) -> list[str]:
    """The kernel's register dump; ``regs`` maps pt_regs field names to values.

    For a kernel-mode frame the kernel prints sp = &regs->sp and the live
    %ss, since no sp/ss were pushed: callers pass those."""
    sym = kern.symbols.describe_sized(regs["ip"])
    return [
        f"Pid: {task.pid}, comm: {task.comm.decode(errors='replace')} {print_tainted(kern)} "
        f"({UTS_RELEASE} {UTS_VERSION.split(' ')[0]}) {DMI_PRODUCT}",
        f"EIP: {regs['cs'] & 0xFFFF:04x}:[<{regs['ip']:08x}>] "
        f"EFLAGS: {regs['flags']:08x} CPU: {cpu}",
        f"EIP is at {sym}",
        f"EAX: {regs['ax']:08x} EBX: {regs['bx']:08x} ECX: {regs['cx']:08x} EDX: {regs['dx']:08x}",
        f"ESI: {regs['si']:08x} EDI: {regs['di']:08x} EBP: {regs['bp']:08x} ESP: {sp:08x}",
        f" DS: {regs['ds'] & 0xFFFF:04x} ES: {regs['es'] & 0xFFFF:04x} "
        f"FS: {regs['fs'] & 0xFFFF:04x} GS: {regs['gs'] & 0xFFFF:04x} SS: {ss & 0xFFFF:04x}",
    ]


def show_regs_of_frame(kern, addr: int, values: dict, cpu: int, task) -> list[str]:
    """__show_regs of the kernel-mode pt_regs frame at ``addr`` holding ``values``."""
    sp = addr + pt_regs.OFFSETS["sp"]
    return __show_regs(kern, values, sp, __KERNEL_DS, cpu, task)
