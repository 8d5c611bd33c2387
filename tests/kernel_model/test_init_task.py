"""The idle tasks after sched_init()/fork_idle(): init_idle() (kernel/sched.c, 2.6.32)."""

from kernel_model.headers import thread_info
from kernel_model.kernel import Kernel


def test_init_idle_sets_max_prio_and_a_zero_preempt_count():
    kern = Kernel(2)
    kern.start()
    kern.run()
    for cpu, q in enumerate(kern.rq):
        idle = kern.task(q.idle)
        assert (idle.pid, idle.prio, idle.normal_prio, idle.static_prio) == (0, 140, 140, 120)
        assert idle.cpus_allowed == 1 << cpu
        assert thread_info(kern.mem, idle.stack).preempt_count == 0
