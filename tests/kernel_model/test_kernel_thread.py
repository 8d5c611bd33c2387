"""kernel_thread -> do_fork -> copy_thread on the real machine: the stack Linux
2.6.32 lays out, what the thread function sees, and what the parent gets."""

import pytest
from unicorn import UC_HOOK_CODE

from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD, STACK_END_MAGIC
from kernel_model.exit import do_wait
from kernel_model.headers import thread_info
from kernel_model.percpu import per_cpu
from kernel_model.process_32 import kernel_thread, task_pt_regs
from kernel_model.task import end_of_stack, find_task_by_pid

FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD


def probe(kern, addr, snapshot):
    """Call snapshot(cpu) when any CPU is about to execute ``addr``; returns the results."""
    seen = []
    kern.machine.hook_add(UC_HOOK_CODE, lambda uc, a, s, c: seen.append(snapshot(c)), addr, addr)
    return seen


def spawn_and_reap(boot, kern, fn, arg):
    def main(k, out):
        out["pid"] = pid = kernel_thread(k, fn, arg, FLAGS)
        out["task"] = find_task_by_pid(k, pid)
        out["regs"] = task_pt_regs(k, out["task"]).values()
        t = out["task"]
        out["thread"] = (t.stack, t.thread.sp, t.thread.sp0, t.thread.ip)
        out["wait"] = yield from do_wait(k, pid)

    return boot(kern, main)


def test_thread_function_sees_arg_in_eax_and_on_stack(demo, boot):
    kern, image = demo
    mem = kern.mem

    def at_fn(cpu):
        sp = cpu.read("esp")
        return cpu.read("eax"), cpu.read("edx"), sp, mem.u32(sp + 4), mem.u32(sp + 8)

    seen = probe(kern, image.symbols["answer"], at_fn)
    out = spawn_and_reap(boot, kern, image.symbols["answer"], 0xBEEF)
    eax, edx, sp, stack_arg, fake_ret = seen[0]
    assert eax == edx == stack_arg == 0xBEEF and fake_ret == 0
    assert sp == out["task"].stack + 0x1FE4
    assert out["wait"] == (out["pid"], 2 * 0xBEEF)


def test_parent_gets_pid_and_child_copy_has_ax_zero(demo, boot):
    kern, image = demo
    out = spawn_and_reap(boot, kern, image.symbols["answer"], 1)
    assert out["pid"] == 1 and out["regs"]["ax"] == 0
    stack, sp, sp0, ip = out["thread"]
    assert (sp, sp0) == (stack + 0x1FB4, stack + 0x1FF8)
    assert ip == kern.symbols["ret_from_fork"]


def test_child_thread_info_is_a_copy_pointing_at_the_child(demo, boot):
    kern, image = demo

    def main(k, out):
        pid = kernel_thread(k, image.symbols["answer"], 1, FLAGS)
        child = find_task_by_pid(k, pid)
        ti, parent_ti = thread_info(k.mem, child.stack), thread_info(k.mem, k.data.init_task.stack)
        out["ti"] = (ti.task == child.addr, ti.addr_limit == parent_ti.addr_limit, ti.preempt_count)
        out["magic"] = k.mem.u32(end_of_stack(child))
        yield from do_wait(k, pid)

    out = boot(kern, main)
    # init_idle() reset the boot task's preempt_count to 0 (no CONFIG_PREEMPT).
    assert out["ti"] == (True, True, 0)
    assert out["magic"] == STACK_END_MAGIC


def test_current_through_fs_is_the_running_task(demo, boot):
    kern, image = demo
    out = spawn_and_reap(boot, kern, image.symbols["whoami"], 0)
    # whoami returns %fs:current_task if it equals (esp & ~8191)->task, else 0.
    assert out["wait"][1] & 0xFFFFFFFF == out["task"].addr


def test_gs_20_is_the_per_cpu_canary(demo, boot):
    kern, image = demo
    canaries = probe(
        kern, image.symbols["read_canary"], lambda cpu: per_cpu(kern, cpu.index).stack_canary.canary
    )
    out = spawn_and_reap(boot, kern, image.symbols["read_canary"], 0)
    assert out["wait"][1] & 0xFFFFFFFF == canaries[0]
    # switch_to's __switch_canary put the child's own canary there.
    assert canaries[0] == out["task"].stack_canary


def test_stack_and_pid_are_freed_after_reaping(demo, boot):
    kern, image = demo
    before = (kern.mm.stacks.in_use, kern.mm.tasks.in_use, kern.data.nr_threads)
    spawn_and_reap(boot, kern, image.symbols["answer"], 1)
    assert (kern.mm.stacks.in_use, kern.mm.tasks.in_use, kern.data.nr_threads) == before


@pytest.mark.parametrize("ncpus", [2, 4])
def test_threads_run_on_a_smp_machine(boot, ncpus):
    from kthreadd_emu.scenario import demo_kernel

    kern, image = demo_kernel(ncpus)
    fn = image.symbols["answer"]

    def main(k, out):
        pids = [kernel_thread(k, fn, i, FLAGS) for i in range(6)]
        out["codes"] = []
        for pid in pids:
            out["codes"].append((yield from do_wait(k, pid))[1])

    assert boot(kern, main)["codes"] == [2 * i for i in range(6)]
