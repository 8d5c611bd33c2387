"""The idle tasks after sched_init()/fork_idle(): init_idle() (kernel/sched.c, 2.6.32)."""

import pytest

from kernel_model.consts import INIT_PREEMPT_COUNT, PF_STARTING
from kernel_model.headers import thread_info
from kernel_model.kernel import Kernel


@pytest.mark.parametrize("profile, prio", [("vanilla", 140), ("rhel6", 120)])
def test_init_idle_sets_the_prio_and_a_zero_preempt_count(profile, prio):
    """Vanilla's init_idle sets prio = MAX_PRIO; RHEL 6's keeps INIT_TASK's 120."""
    kern = Kernel(2)
    kern.boot(profile)
    for cpu, q in enumerate(kern.rq):
        idle = kern.task(q.idle)
        assert (idle.pid, idle.prio, idle.normal_prio, idle.static_prio) == (0, prio, prio, 120)
        assert idle.cpus_allowed == 1 << cpu
        assert thread_info(kern.mem, idle.stack).preempt_count == 0


def test_before_the_kernel_starts_only_cpu_0_has_a_task():
    """init_task is CPU 0's, still as INIT_TASK left it (sched_init runs at start);
    the other CPUs get their idle tasks from pid 1's smp_init."""
    kern = Kernel(2)
    t = kern.data.init_task
    assert kern.rq[0].idle == kern.current_addr(0) == t.addr
    assert kern.rq[1].idle == kern.current_addr(1) == 0
    assert thread_info(kern.mem, t.stack).preempt_count == INIT_PREEMPT_COUNT
    assert (t.prio, t.cpus_allowed) == (120, 0b11)


def test_secondary_idle_tasks_are_pid_1s_children_forked_not_woken():
    """fork_idle: copy_process(&init_struct_pid) in pid 1; not on the task list,
    not counted, and never through do_fork (PF_STARTING stays, no
    sched_process_fork)."""
    kern = Kernel(3)
    forks = []
    kern.register_trace("sched_process_fork", lambda parent, child: forks.append(child.pid))
    kern.boot()
    for q in kern.rq[1:]:
        idle = kern.task(q.idle)
        assert kern.task(idle.real_parent).pid == 1 and idle.flags & PF_STARTING
    assert 0 not in forks and kern.data.nr_threads == len(forks)
