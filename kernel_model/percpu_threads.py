"""The per-CPU kernel threads of boot, each after its kernel file (2.6.32):

* kernel/sched.c        migration_thread   "migration/%d"  (notifier priority 10)
* kernel/softirq.c      ksoftirqd          "ksoftirqd/%d"  (0)
* kernel/stop_machine.c cpu_stopper_thread "migration/%d"  (10; RHEL6's backport)
* kernel/softlockup.c   watchdog           "watchdog/%d"   (0; kernel/watchdog.c on RHEL6)
* kernel/workqueue.c    worker_thread      "events/%d"     (created after smp_init)

Each is bound to its CPU and runs a real loop: do its small job, sleep
interruptibly, stop on kthread_should_stop().  The job here is the same for
all of them: read the CPU number through %fs (raw_smp_processor_id, guest
code) and report it, so tests can see where each thread really ran.
"""

from kernel_model.consts import MAX_RT_PRIO, SCHED_FIFO, TASK_INTERRUPTIBLE, TASK_RUNNING
from kernel_model.cpu import CPU_ONLINE, CPU_UP_PREPARE
from kernel_model.kthread import kthread_create, kthread_should_stop
from kernel_model.runtime import call_guest, guest_callable
from kernel_model.sched import (
    __set_current_state,
    current,
    kthread_bind,
    sched_setscheduler_nocheck,
    schedule,
    set_current_state,
    wake_up_process,
)


def per_cpu_thread_loop(kern):
    """Work once per wake-up on whatever CPU we are on, until told to stop."""
    while not kthread_should_stop(kern):
        cpu = yield from call_guest(kern.symbols["raw_smp_processor_id"])
        kern.tracepoint("percpu_thread", task=current(kern), cpu=cpu)
        set_current_state(kern, TASK_INTERRUPTIBLE)
        if not kthread_should_stop(kern):
            yield from schedule(kern)
        __set_current_state(kern, TASK_RUNNING)
    return 0


@guest_callable(nargs=1)
def migration_thread(kern, data):
    return (yield from per_cpu_thread_loop(kern))


@guest_callable(nargs=1)
def ksoftirqd(kern, bind_cpu):
    return (yield from per_cpu_thread_loop(kern))


@guest_callable(nargs=1)
def cpu_stopper_thread(kern, data):
    return (yield from per_cpu_thread_loop(kern))


@guest_callable(nargs=1)
def watchdog(kern, bind_cpu):
    # The watchdog makes itself the highest-priority real-time task.
    sched_setscheduler_nocheck(kern, current(kern), SCHED_FIFO, MAX_RT_PRIO - 1)
    return (yield from per_cpu_thread_loop(kern))


@guest_callable(nargs=1)
def worker_thread(kern, cwq):
    return (yield from per_cpu_thread_loop(kern))


def _bound_thread_callback(fn_name: str, namefmt: str, fifo: bool):
    """A CPU notifier that creates, binds and later wakes one thread per CPU."""

    def callback(kern, action, cpu):
        threads = kern.percpu_threads.setdefault(cpu, {})
        if action == CPU_UP_PREPARE:
            p = yield from kthread_create(kern, kern.symbols[fn_name], cpu, namefmt, cpu)
            task = kern.task(p)
            yield from kthread_bind(kern, task, cpu)
            if fifo:
                sched_setscheduler_nocheck(kern, task, SCHED_FIFO, MAX_RT_PRIO - 1)
            threads[fn_name] = task
        elif action == CPU_ONLINE:
            wake_up_process(kern, threads[fn_name])

    callback.__name__ = f"{fn_name}_cpu_callback"
    return callback


migration_call = _bound_thread_callback("migration_thread", "migration/%d", fifo=True)
ksoftirqd_cpu_callback = _bound_thread_callback("ksoftirqd", "ksoftirqd/%d", fifo=False)
cpu_stop_cpu_callback = _bound_thread_callback("cpu_stopper_thread", "migration/%d", fifo=True)
watchdog_cpu_callback = _bound_thread_callback("watchdog", "watchdog/%d", fifo=False)
workqueue_cpu_callback = _bound_thread_callback("worker_thread", "events/%d", fifo=False)


def early_initcall(callback, priority: int):
    """An early initcall that registers ``callback`` and runs it for the boot CPU."""

    def initcall(kern):
        kern.cpu_notifiers.register_cpu_notifier(callback, priority)
        yield from callback(kern, CPU_UP_PREPARE, 0)
        yield from callback(kern, CPU_ONLINE, 0)

    return initcall


migration_init = early_initcall(migration_call, 10)
spawn_ksoftirqd = early_initcall(ksoftirqd_cpu_callback, 0)
cpu_stop_init = early_initcall(cpu_stop_cpu_callback, 10)
spawn_watchdog_task = early_initcall(watchdog_cpu_callback, 0)
