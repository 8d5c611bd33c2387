"""thread_info flags as 2.6.32's arch/x86/include/asm/thread_info.h numbers
them, and what entry_32.S's return path does with them on the CPU."""

from emu.trace import Tracer
from kernel_model import consts
from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD
from kernel_model.exit import do_wait
from kernel_model.headers import thread_info
from kernel_model.process_32 import kernel_thread
from kernel_model.task import find_task_by_pid

FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD

# asm/thread_info.h, 2.6.32 (the pre-2.6.25 numbering had SIGPENDING 1, NEED_RESCHED 2).
TIF_BITS = {
    "SYSCALL_TRACE": 0, "NOTIFY_RESUME": 1, "SIGPENDING": 2, "NEED_RESCHED": 3,
    "SINGLESTEP": 4, "IRET": 5, "SYSCALL_EMU": 6, "SYSCALL_AUDIT": 7, "SECCOMP": 8,
    "MCE_NOTIFY": 10, "FREEZE": 23, "SYSCALL_TRACEPOINT": 28,
}  # fmt: skip


def test_tif_bit_numbers_are_2_6_32s():
    assert {name: getattr(consts, f"TIF_{name}") for name in TIF_BITS} == TIF_BITS


def test_work_masks():
    assert consts._TIF_WORK_MASK == 0xFE2E
    assert consts._TIF_ALLWORK_MASK == 0x1000FEFF


def test_syscall_exit_tests_allwork_mask_in_its_encoding(demo):
    """`testl $0x1000feff, %ecx` right after syscall_exit's cli and load of TI_flags."""
    kern, _ = demo
    start = kern.symbols["syscall_exit"]
    code = kern.mem.read(start, kern.symbols["restore_all"] - start)
    # cli; movl TI_flags(%ebp), %ecx; testl $imm32, %ecx; jne ...
    assert code[:4] == bytes([0xFA, 0x8B, 0x4D, 0x08])
    assert code[4:10] == bytes([0xF7, 0xC1]) + (0x1000FEFF).to_bytes(4, "little")


def test_need_resched_on_a_new_thread_schedules_before_its_iret(demo, boot):
    """A new thread whose TIF_NEED_RESCHED (bit 3) is set takes syscall_exit_work ->
    work_pending -> schedule() on its way out of ret_from_fork, then irets."""
    kern, image = demo
    sym = kern.symbols
    child = {}

    def want(cpu, addr):
        return kern.current(cpu).addr == child.get("addr")

    tracer = Tracer(kern.machine, want)

    def main(k, out):
        pid = kernel_thread(k, image.symbols["answer"], 21, FLAGS)
        task = find_task_by_pid(k, pid)
        child["addr"] = task.addr
        thread_info(k.mem, task.stack).flags |= 1 << 3
        out["wait"] = yield from do_wait(k, pid)

    out = boot(kern, main, 10_000)
    tracer.close()
    path = [s.addr for s in tracer.steps]
    assert out["wait"][1] == 42
    iret = path.index(sym["irq_return"])
    assert sym["work_pending"] in path[:iret]
    assert sym["schedule"] in path[path.index(sym["work_pending"]) : iret]
