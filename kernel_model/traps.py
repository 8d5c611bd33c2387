"""Oopses: a fault in guest code becomes the kernel's report and kills the task
(mirrors arch/x86/mm/fault.c no_context/show_fault_oops and
arch/x86/kernel/dumpstack_32.c die/__die/oops_end).

The faulting task then runs do_exit(signr) as the kernel's oops_end()
does; the other tasks and CPUs go on.
"""

from emu.events import Halt
from emu.memory import PAGE_SIZE
from emu.segment import __KERNEL_DS
from kernel_model.consts import (
    PF_EXITING,
    SIGBUS,
    SIGKILL,
    SIGSEGV,
    THREAD_SIZE,
    TIF_SINGLESTEP,
    X86_EFLAGS_TF,
)
from kernel_model.exit import do_exit
from kernel_model.headers import thread_info
from kernel_model.kernel_errors import KernelPanic
from kernel_model.process_32 import __show_regs
from kernel_model.task import stack_top

PF_WRITE, PF_INSTR = 0x2, 0x10
_PT_FROM_CPU = {
    "bx": "ebx", "cx": "ecx", "dx": "edx", "si": "esi", "di": "edi", "bp": "ebp",
    "ax": "eax", "ds": "ds", "es": "es", "fs": "fs", "gs": "gs",
    "ip": "eip", "cs": "cs", "flags": "eflags",
}  # fmt: skip


def cpu_pt_regs(cpu) -> tuple[dict, int, int]:
    """The CPU's registers as a pt_regs-like dict, plus esp and ss."""
    regs = {field: cpu.read(reg) for field, reg in _PT_FROM_CPU.items()}
    return regs, cpu.read("esp"), cpu.read("ss")


# die()'s string for each exception vector (arch/x86/kernel/traps.c, 2.6.32);
# every one of them, in kernel mode, ends in die() and do_exit(SIGSEGV).
TRAP_NAMES = {
    0: "divide error",
    3: "int3",
    4: "overflow",
    5: "bounds",
    6: "invalid opcode",
    7: "device not available",
    8: "double fault",
    9: "coprocessor segment overrun",
    10: "invalid TSS",
    11: "segment not present",
    12: "stack segment",
    13: "general protection fault",
    16: "coprocessor error",
    17: "alignment check",
    19: "simd floating point",
}
NMI_LOCKUP = "BUG: NMI Watchdog detected LOCKUP"


def fault_header(fault) -> tuple[list[str], str, int]:
    """The first lines of the report, the die() string and signal for ``fault``."""
    if type(fault) is Halt:
        # cli; hlt: nothing can wake the CPU; the NMI watchdog's die_nmi() reports it.
        return [], NMI_LOCKUP, SIGBUS
    if fault.kind == "bug":
        return fault.detail.split("\n"), "invalid opcode: 0000", SIGSEGV
    if fault.kind == "page":
        what = "NULL pointer dereference" if fault.address < PAGE_SIZE else "paging request"
        at = "(null)" if fault.address == 0 else f"{fault.address:08x}"
        code = (PF_WRITE if fault.access == "write" else 0) | (
            PF_INSTR if fault.access == "fetch" else 0
        )
        return [f"BUG: unable to handle kernel {what} at {at}"], f"Oops: {code:04x}", SIGKILL
    vector = 6 if fault.kind == "invalid_opcode" else fault.vector
    # A software interrupt to a vector with no handler: this machine models none.
    name = TRAP_NAMES.get(vector, TRAP_NAMES[13])
    note = [f"kthreadd-emu: {fault.detail}"] if fault.detail else []
    if vector not in TRAP_NAMES:
        note = [f"kthreadd-emu: int ${vector:#x}: no interrupt handlers are modelled"]
    return note, f"{name}: 0000", SIGSEGV


def do_debug(kern, cpu) -> bool:
    """#DB from kernel mode (EFLAGS.TF set by kernel code): 2.6.32 ignores single
    steps in kernel space: clear TF, note TIF_SINGLESTEP, go on."""
    cpu.update_eflags(clear=X86_EFLAGS_TF)
    ti = thread_info(kern.mem, kern.current(cpu.index).stack)
    ti.flags |= 1 << TIF_SINGLESTEP
    return True


def stack_lines(kern, sp: int, words: int = 24) -> list[str]:
    """show_stack_log_lvl: words from sp up to the stack's end, 8 per line."""
    if not kern.mem.contains(sp, 4):
        return []
    top = (sp & ~(THREAD_SIZE - 1)) + THREAD_SIZE
    values = [kern.mem.u32(a) for a in range(sp, min(top, sp + 4 * words), 4)]
    return [" " + " ".join(f"{v:08x}" for v in values[i : i + 8]) for i in range(0, len(values), 8)]


def call_trace(kern, sp: int) -> list[str]:
    """The unreliable (``?``) trace: every stack word that points into kernel text."""
    if not kern.mem.contains(sp, 4):
        return []
    top = (sp & ~(THREAD_SIZE - 1)) + THREAD_SIZE
    out = []
    for a in range(sp, top, 4):
        v = kern.mem.u32(a)
        sym = kern.symbols.lookup(v)
        if sym is not None and sym.kind != "data" and kern.is_text(v):
            out.append(f" [<{v:08x}>] ? {kern.symbols.describe_sized(v)}")
    return out


def code_line(kern, eip: int) -> str:
    if not kern.mem.contains(eip - 43, 64):
        return "Code:  Bad EIP value."
    before = kern.mem.read(eip - 43, 43).hex(" ")
    after = kern.mem.read(eip, 21)
    return f"Code: {before} <{after[:1].hex()}> {after[1:].hex(' ')}"


def die(kern, cpu, fault, task) -> int:
    """Print the oops for ``fault`` on ``cpu``; returns the signal to exit with."""
    header, banner, signr = fault_header(fault)
    regs, sp, ss = cpu_pt_regs(cpu)
    kern.die_counter += 1
    ti = sp & ~(THREAD_SIZE - 1)
    if banner == NMI_LOCKUP:
        lines = [f"{banner} on CPU{cpu.index}, ip {fault.eip:08x}, registers:"]
    else:
        ip_line = header and fault.kind == "page"
        lines = header + [f"IP: [<{fault.eip:08x}>] {kern.symbols.describe_sized(fault.eip)}"] * (
            bool(ip_line)
        )
        lines += [f"{banner} [#{kern.die_counter}] SMP"]
    lines += ["Modules linked in:", ""]
    lines += __show_regs(kern, regs, sp, ss, cpu.index, task)
    lines.append(
        f"Process {task.comm.decode(errors='replace')} (pid: {task.pid}, ti={ti:08x} "
        f"task={task.addr:08x} task.ti={task.stack:08x})"
    )
    lines += ["Stack:"] + stack_lines(kern, sp) + ["Call Trace:"] + call_trace(kern, sp)
    lines.append(code_line(kern, fault.eip))
    lines.append(
        f"EIP: [<{fault.eip:08x}>] {kern.symbols.describe_sized(fault.eip)} "
        f"SS:ESP {ss & 0xFFFF:04x}:{sp:08x}"
    )
    lines.append(f"---[ end trace {kern.die_counter:016x} ]---")
    kern.tainted = True
    for line in lines:
        kern.printk(line)
    return signr


def _report(kern, fault, line: str) -> None:
    header, banner, _ = fault_header(fault)
    kern.die_counter += 1
    for text in [*header, f"{banner} [#{kern.die_counter}] SMP", line]:
        kern.printk(text)


def panic(kern, message: str):
    """panic(): the machine stops (kernel/panic.c's line)."""
    kern.printk(f"Kernel panic - not syncing: {message}")
    raise KernelPanic(f"Kernel panic - not syncing: {message}")


def handle_fault(kern, cpu, fault) -> None:
    """die(), then oops_end(): the task exits with the signal; the machine goes on.
    The idle task and a current_task that is no task at all cannot exit: panic."""
    addr = kern.current_addr(cpu.index)
    if not kern.is_task(addr):
        _report(kern, fault, f"BUG: current_task of CPU{cpu.index} is {addr:08x}, not a task")
        panic(kern, "Fatal exception")
    task = kern.task(addr)
    if task.pid == 0:
        die(kern, cpu, fault, task)
        panic(kern, "Attempted to kill the idle task!")
    signr = die(kern, cpu, fault, task)
    if task.flags & PF_EXITING and addr in kern.recursive_faults:
        # A fault in do_exit's own recursive-fault path: the task can neither run
        # nor exit; the kernel would oops here forever.
        panic(kern, "Fatal exception")
    if task.flags & PF_EXITING:
        kern.recursive_faults.add(addr)
    kern.tracepoint("oops", task=task, fault=fault)
    # Run do_exit on this task's own stack, below the dead frames if the stack
    # pointer is still inside the stack, else just under the pt_regs area.
    sp = cpu.read("esp")
    low = task.stack + thread_info.SIZE + 512
    if not low <= sp <= stack_top(task) - 8:
        sp = stack_top(task) - 8 - 68
    cpu.write("ss", __KERNEL_DS)
    kern.runtime.start_root(task, do_exit(kern, signr), sp & ~3)
    kern.runtime.resume(cpu.index)
