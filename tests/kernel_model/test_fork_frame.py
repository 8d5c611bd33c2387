"""do_fork -> copy_process -> copy_thread seen from the child (arch/x86/kernel/
process_32.c and kernel/fork.c, 2.6.32): its frame is the parent's with ax = 0
and the new sp, it enters with eax = 0, and what copy_process gives it of its own.

kernel_thread's own frame already has ax = 0, so these tests fork a frame whose
ax is not 0."""

from unicorn import UC_HOOK_CODE

import kernel_model.fork
from emu.segment import __KERNEL_CS, __KERNEL_PERCPU, __KERNEL_STACK_CANARY, __USER_DS
from kernel_model.consts import (
    CLONE_FILES,
    CLONE_FS,
    CLONE_PARENT,
    CLONE_UNTRACED,
    CLONE_VM,
    PF_FORKNOEXEC,
    PF_STARTING,
    SIGCHLD,
)
from kernel_model.exit import do_wait
from kernel_model.fork import do_fork
from kernel_model.process_32 import kernel_thread, task_pt_regs
from kernel_model.ptrace import pt_regs
from kernel_model.sched import current
from kernel_model.task import find_task_by_pid
from kthreadd_emu.scenario import run_in_thread

FLAGS = CLONE_FS | CLONE_FILES | SIGCHLD


def fill_like_kernel_thread(k, regs, fn, arg) -> None:
    regs.zero()
    regs.bx, regs.dx = fn, arg
    regs.ds = regs.es = __USER_DS
    regs.fs, regs.gs = __KERNEL_PERCPU, __KERNEL_STACK_CANARY
    regs.orig_ax = -1
    regs.ip, regs.cs = k.symbols["kernel_thread_helper"], __KERNEL_CS
    regs.flags = 0x286


def entry_eax(kern):
    """eax of each task as it enters kernel_thread_helper (just after iret): task -> eax."""
    seen = {}
    addr = kern.symbols["kernel_thread_helper"]
    kern.machine.hook_add(
        UC_HOOK_CODE,
        lambda uc, a, s, c: seen.setdefault(kern.current(c.index).addr, c.read("eax")),
        addr,
        addr,
    )
    return seen


def test_child_frame_is_the_parent_frame_with_ax_0_and_the_new_sp(demo, boot):
    kern, image = demo
    seen = entry_eax(kern)

    def main(k, out):
        with k.runtime.stack_local(pt_regs) as regs:
            fill_like_kernel_thread(k, regs, image.symbols["answer"], 21)
            regs.ax, regs.sp = 0x1234, 0xAAAA
            out["parent"] = regs.values()
            pid = do_fork(k, FLAGS | CLONE_VM | CLONE_UNTRACED, 0x5678, regs, 0, None, None)
            out["parent_after"] = regs.values()
        child = find_task_by_pid(k, pid)
        out["child"], out["task"] = task_pt_regs(k, child).values(), child.addr
        out["wait"] = yield from do_wait(k, pid)

    out = boot(kern, main)
    assert out["child"] == {**out["parent"], "ax": 0, "sp": 0x5678}
    assert out["parent_after"] == out["parent"]
    # iret put the frame's ax into eax: fork returns 0 in the child.
    assert seen[out["task"]] == 0
    assert out["wait"][1] == 42


def test_kernel_thread_forks_with_clone_vm_and_clone_untraced(demo, boot, monkeypatch):
    """A kernel thread shares init's mm and can never be ptraced."""
    kern, image = demo
    forks = []
    real_do_fork = kernel_model.fork.do_fork

    def spy(k, clone_flags, *args):
        forks.append(clone_flags)
        return real_do_fork(k, clone_flags, *args)

    monkeypatch.setattr(kernel_model.fork, "do_fork", spy)

    def main(k, out):
        pid = kernel_thread(k, image.symbols["answer"], 1, FLAGS)
        yield from do_wait(k, pid)

    boot(kern, main)
    assert forks == [FLAGS | CLONE_VM | CLONE_UNTRACED]


def test_child_has_its_own_canary_flags_and_exit_signal(demo, boot):
    kern, image = demo

    def main(k, out):
        pids = [kernel_thread(k, image.symbols["answer"], 1, f) for f in (FLAGS, FLAGS & ~SIGCHLD)]
        children = [find_task_by_pid(k, pid) for pid in pids]
        out["parent_canary"] = current(k).stack_canary
        out["children"] = [(c.stack_canary, c.flags, c.exit_signal) for c in children]
        out["wait"] = yield from do_wait(k, pids[0])

    out = boot(kern, main)
    (canary1, flags1, signal1), (canary2, flags2, signal2) = out["children"]
    # dup_task_struct: a fresh random canary per task.
    assert len({out["parent_canary"], canary1, canary2}) == 3
    # copy_flags sets PF_FORKNOEXEC and PF_STARTING; do_fork clears PF_STARTING.
    assert flags1 & (PF_FORKNOEXEC | PF_STARTING) == PF_FORKNOEXEC
    assert flags2 & (PF_FORKNOEXEC | PF_STARTING) == PF_FORKNOEXEC
    # exit_signal = clone_flags & CSIGNAL.
    assert (signal1, signal2) == (SIGCHLD, 0)


def test_clone_parent_makes_a_sibling(kernel, asm):
    fn = asm("sibling_fn:\n\tret\n").symbols["sibling_fn"]

    def main(k, out):
        me = current(k)
        plain = find_task_by_pid(k, kernel_thread(k, fn, 0, FLAGS))
        sibling = find_task_by_pid(k, kernel_thread(k, fn, 0, FLAGS | CLONE_PARENT))
        out["plain"] = (plain.real_parent, plain.parent)
        out["sibling"] = (sibling.real_parent, sibling.parent)
        out["me"] = (me.addr, me.real_parent)
        yield from do_wait(k, plain.pid)

    out = run_in_thread(kernel, main)
    me, my_parent = out["me"]
    assert out["plain"] == (me, me)
    assert out["sibling"] == (my_parent, my_parent) and my_parent != me


def test_kernel_thread_helper_calls_do_exit_with_the_result_in_eax_and_on_the_stack(demo, boot):
    """2.6.32's kernel_thread_helper: push %eax; call do_exit (regparm: eax is the
    argument; the pushed copy is what the stack dump and unwinder see)."""
    kern, image = demo
    calls = []  # (eax, return address, the word above it) at each call of do_exit

    def at_call(cpu, addr):
        if addr == kern.symbols["do_exit"]:
            esp = cpu.read("esp")
            calls.append((cpu.read("eax"), kern.mem.u32(esp), kern.mem.u32(esp + 4)))

    kern.machine.call_observers.append(at_call)

    def main(k, out):
        pid = kernel_thread(k, image.symbols["answer"], 0x100, FLAGS)
        out["wait"] = yield from do_wait(k, pid)

    out = boot(kern, main)
    [(eax, ret, pushed)] = calls
    assert (eax, pushed) == (0x200, 0x200) and out["wait"][1] == 0x200
    assert kern.symbols.describe(ret).startswith("kernel_thread_helper+")
