"""The idle tasks: init_task (INIT_TASK, INIT_THREAD_INFO in
arch/x86/kernel/init_task.c) and fork_idle/init_idle (kernel/fork.c,
kernel/sched.c) for the secondary CPUs.  All of them have pid 0."""

from emu.segment import __KERNEL_CS
from kernel_model.consts import (
    CLONE_VM,
    INIT_PREEMPT_COUNT,
    KERNEL_DS,
    MAX_PRIO,
    NICE_0_PRIO,
    PF_KTHREAD,
    SCHED_NORMAL,
    THREAD_SIZE,
)
from kernel_model.fork import copy_process
from kernel_model.headers import thread_info
from kernel_model.list import INIT_LIST_HEAD
from kernel_model.percpu import per_cpu
from kernel_model.ptrace import pt_regs
from kernel_model.sched import __set_task_cpu, cpu_idle, task_thread_info
from kernel_model.task import stack_top


def init_idle_task(kern) -> None:
    """Lay out init_task and its thread_info; it is CPU 0's current task."""
    t = kern.data.init_task
    t.zero()
    t.stack = kern.data.addr + kern.data.OFFSETS["init_thread_union"]
    t.usage = 2
    t.flags = PF_KTHREAD
    t.prio = t.static_prio = t.normal_prio = NICE_0_PRIO
    t.policy = SCHED_NORMAL
    t.cpus_allowed = (1 << len(kern.machine.cpus)) - 1
    for head in (t.tasks, t.children, t.sibling):
        INIT_LIST_HEAD(kern.mem, head.addr)
    t.real_parent = t.parent = t.addr
    t.comm = b"swapper"
    t.thread.sp0 = t.stack + THREAD_SIZE
    t.thread.sysenter_cs = __KERNEL_CS
    t.stack_canary = kern.rng.getrandbits(32)
    # INIT_PID_NS (kernel/pid.c): init_task adopts orphans until kernel_init takes over.
    kern.data.init_pid_ns.child_reaper = t.addr
    ti = thread_info(kern.mem, t.stack)
    ti.zero()
    ti.task = t.addr
    ti.preempt_count = INIT_PREEMPT_COUNT
    ti.addr_limit = KERNEL_DS
    init_idle(kern, t, 0)


def init_idle(kern, idle, cpu: int) -> None:
    """Make ``idle`` the idle task of ``cpu``, bound to it (kernel/sched.c)."""
    idle.state = 0
    idle.prio = idle.normal_prio = MAX_PRIO
    idle.cpus_allowed = 1 << cpu
    __set_task_cpu(kern, idle, cpu)
    kern.rq[cpu].idle = idle.addr
    per_cpu(kern, cpu).current_task = idle.addr
    # Set the preempt count outside the spinlocks: 0 without CONFIG_PREEMPT.
    task_thread_info(kern, idle).preempt_count = 0


def fork_idle(kern, cpu: int) -> None:
    """Fork CPU ``cpu``'s idle task (pid 0, from zeroed idle_regs) and start its loop."""
    with kern.runtime.stack_local(pt_regs) as regs:
        regs.zero()
        idle = copy_process(kern, CLONE_VM, 0, regs, 0, None, 0)
    idle.comm = b"swapper"
    init_idle(kern, idle, cpu)
    kern.runtime.start_root(idle, cpu_idle(kern), stack_top(idle) - 8 - pt_regs.SIZE)
    kern.runtime.resume(cpu)
