"""switch_to on the CPU (the switch_to() macro of asm/system.h, 2.6.32): what it
leaves on a sleeping task's stack, and that a task resumes with its own EFLAGS."""

from unicorn import UC_HOOK_CODE

from kernel_model.kthread import kthread_create
from kernel_model.runtime import RETURN_MARK
from kernel_model.sched import kthread_bind, wake_up_process
from kthreadd_emu.scenario import run_in_thread

# Two tasks on one CPU, each with flags the other does not have.
FLAGS_A = 0xA53  # OF IF ZF AF CF and the always-one bit
FLAGS_B = 0x287  # SF IF PF CF and the always-one bit

KEEP_FLAGS = """
	.globl keep_flags
/* keep_flags(flags): run with those flags and ebp = 0 across schedule();
 * return the flags found after it. */
keep_flags:
	pushl %ebp
	xorl %ebp, %ebp
	pushl %eax
	popfl
	call schedule
	pushfl
	popl %eax
	popl %ebp
	ret
"""


def run_pair(kernel, asm):
    """keep_flags(FLAGS_A) and keep_flags(FLAGS_B) bound to CPU 1, woken together.

    Returns (tasks, exit codes by task, one record per switch away from either:
    (prev, ebp and eflags at __switch_to, the two words at prev->thread.sp, and
    whether it was called from keep_flags))."""
    fn = asm(KEEP_FLAGS).symbols["keep_flags"]
    mem, switches, codes = kernel.mem, [], {}

    def at_switch(uc, addr, size, cpu):
        prev = kernel.task(cpu.read("eax"))
        sp = prev.thread.sp
        ebp = cpu.read("ebp")
        inside = called_from_keep_flags(kernel, ebp)
        switches.append((prev.addr, ebp, cpu.read("eflags"), mem.u32(sp), mem.u32(sp + 4), inside))

    entry = kernel.symbols["__switch_to"]
    hook = kernel.machine.hook_add(UC_HOOK_CODE, at_switch, entry, entry)
    kernel.register_trace("do_exit", lambda task, code: codes.__setitem__(task.addr, code))

    def main(k, out):
        out["tasks"] = []
        for flags in (FLAGS_A, FLAGS_B):
            task = k.task((yield from kthread_create(k, fn, flags, "flags-%x", flags)))
            yield from kthread_bind(k, task, 1)
            out["tasks"].append(task.addr)
        for addr in out["tasks"]:
            wake_up_process(k, k.task(addr))

    try:
        tasks = run_in_thread(kernel, main)["tasks"]
        kernel.run()
    finally:
        kernel.machine.hook_del(hook)
    return tasks, codes, switches


def called_from_keep_flags(kernel, ebp: int) -> bool:
    """Does the frame-record chain at ebp (kernel_model/runtime.py) reach schedule's
    own record, whose caller saved ebp = 0: keep_flags, which zeroed it?"""
    mem, schedule = kernel.mem, kernel.symbols["schedule"]
    for _ in range(16):  # the records of one Python frame's chain
        if not ebp:
            return False
        link, ret = mem.unpack("<II", ebp)
        if ret == schedule + RETURN_MARK:
            return mem.u32(link) == 0 and mem.u32(link + 4) in range(*keep_flags_range(kernel))
        ebp = link
    return False


def keep_flags_range(kernel) -> tuple[int, int]:
    sym = kernel.symbols.by_name["keep_flags"]
    return sym.addr, sym.addr + sym.size


def test_a_task_resumes_with_its_own_eflags(kernel, asm):
    (a, b), codes, switches = run_pair(kernel, asm)
    # Each switched away from inside keep_flags, with its own flags (IF aside).
    inside = {(prev, eflags & ~0x200) for prev, _, eflags, _, _, kept in switches if kept}
    assert {(a, FLAGS_A & ~0x200), (b, FLAGS_B & ~0x200)} <= inside
    assert codes[a] & 0xFFFFFFFF == FLAGS_A and codes[b] & 0xFFFFFFFF == FLAGS_B


def test_switch_to_leaves_flags_above_ebp_on_the_sleeping_stack(kernel, asm):
    (a, b), _, switches = run_pair(kernel, asm)
    ours = [s for s in switches if s[0] in (a, b)]
    assert any(kept for *_, kept in ours)
    for _, ebp, eflags, word0, word1, _ in ours:
        # pushfl then pushl %ebp: thread.sp points at ebp, the flags are above it.
        assert (word0, word1) == (ebp, eflags)
