"""syscall_exit's work path (arch/x86/kernel/entry_32.S, 2.6.32): a new task
whose thread_info has TIF_NEED_RESCHED set calls schedule() from work_pending,
and goes on to its iret only once no work is left: schedule() clears the flag
(clear_tsk_need_resched), so one call is enough."""

from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD, TIF_NEED_RESCHED
from kernel_model.exit import do_wait
from kernel_model.headers import thread_info
from kernel_model.process_32 import kernel_thread
from kernel_model.sched import schedule
from kernel_model.task import find_task_by_pid
from kthreadd_emu.scenario import run_in_thread

FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD


def test_need_resched_on_the_way_out_calls_schedule_until_it_is_clear(kernel, asm):
    fn = asm("work_fn:\n\tmovl $7, %eax\n\tret\n").symbols["work_fn"]
    calls = []  # (task, where schedule() returns to) for each call of schedule from guest code

    def at_call(cpu, addr):
        if addr == kernel.symbols["schedule"]:
            calls.append((kernel.current(cpu.index).addr, kernel.mem.u32(cpu.read("esp"))))

    kernel.machine.call_observers.append(at_call)

    def main(k, out):
        pid = kernel_thread(k, fn, 0, FLAGS)
        child = find_task_by_pid(k, pid)
        ti = thread_info(k.mem, child.stack)
        # Set before the child ever runs: it is still waiting for a CPU.
        ti.flags |= 1 << TIF_NEED_RESCHED
        for _ in range(1000):
            if any(task == child.addr for task, _ in calls):
                break
            yield from schedule(k)
        out["child"] = child.addr
        out["flag_after"] = ti.flags >> TIF_NEED_RESCHED & 1
        out["wait"] = yield from do_wait(k, pid)

    try:
        out = run_in_thread(kernel, main)
    finally:
        kernel.machine.call_observers.remove(at_call)  # the machine is shared between tests
    returns = [ret for task, ret in calls if task == out["child"]]
    work_pending, ldt_ss = kernel.symbols["work_pending"], kernel.symbols["ldt_ss"]
    assert len(returns) == 1 and work_pending < returns[0] < ldt_ss
    assert out["flag_after"] == 0 and out["wait"][1] == 7
