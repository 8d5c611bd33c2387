"""The idle tasks: init_task (INIT_TASK, INIT_THREAD_INFO in
arch/x86/kernel/init_task.c) and fork_idle/init_idle (kernel/fork.c,
kernel/sched.c) for the secondary CPUs, which pid 1 forks as it brings
them up (smpboot.py).  All of them have pid 0."""

from emu.segment import __KERNEL_CS
from kernel_model.consts import (
    CLONE_VM,
    INIT_PREEMPT_COUNT,
    IS_ERR,
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
from kernel_model.sched import __set_task_cpu, task_thread_info


def init_idle_task(kern) -> None:
    """Lay out init_task and its thread_info (their static initializers); it is
    CPU 0's current task and idle task.  sched_init() makes it idle proper
    (init_idle) when the kernel starts."""
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
    kern.rq[0].idle = per_cpu(kern, 0).current_task = t.addr


def init_idle(kern, idle, cpu: int) -> None:
    """Make ``idle`` the idle task of ``cpu``, bound to it (kernel/sched.c).
    Vanilla gives it the lowest priority, MAX_PRIO; RHEL 6's keeps the one it has."""
    idle.state = 0
    if kern.profile == "vanilla":
        idle.prio = idle.normal_prio = MAX_PRIO
    idle.cpus_allowed = 1 << cpu
    __set_task_cpu(kern, idle, cpu)
    kern.rq[cpu].idle = idle.addr
    # Set the preempt count outside the spinlocks: 0 without CONFIG_PREEMPT.
    task_thread_info(kern, idle).preempt_count = 0


def fork_idle(kern, cpu: int):
    """Fork CPU ``cpu``'s idle task from the current one, with &init_struct_pid
    (pid 0) and zeroed idle_regs; returns it, or ERR_PTR(-errno) as an int."""
    with kern.runtime.stack_local(pt_regs) as regs:
        regs.zero()
        task = copy_process(kern, CLONE_VM, 0, regs, 0, None, 0)
    if not (isinstance(task, int) and IS_ERR(task)):
        init_idle(kern, task, cpu)
    return task
