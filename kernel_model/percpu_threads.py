"""The per-CPU kernel threads of boot, each after its kernel file (2.6.32):

* kernel/sched.c        migration_thread   "migration/%d"  (notifier priority 10)
* kernel/softirq.c      ksoftirqd          "ksoftirqd/%d"  (0)
* kernel/stop_machine.c cpu_stopper_thread "migration/%d"  (10; RHEL6's backport)
* kernel/softlockup.c   watchdog           "watchdog/%d"   (0; kernel/watchdog.c on RHEL6)
* kernel/workqueue.c    worker_thread      "events/%d"     (created after smp_init)

Their data is what the kernel passes: the CPU number, or the cpu_stopper and
the cwq (cpu_workqueue_struct) the thread serves.

Each is bound to its CPU and runs a real loop: do its small job, sleep
interruptibly, stop on kthread_should_stop().  The job here is the same for
all of them: read the CPU number through %fs (raw_smp_processor_id, guest
code) and report it, so tests can see where each thread really ran.  The
migration thread also does its real one: it moves the tasks that
set_cpus_allowed_ptr() hands it.

Each CPU notifier creates its thread at CPU_UP_PREPARE, binds it and wakes
it at CPU_ONLINE, as its file does: vanilla binds every one at creation;
RHEL 6's cpu_stop binds at CPU_ONLINE, and its watchdog (watchdog_enable)
creates, binds and wakes at CPU_ONLINE.
"""

from kernel_model.completion import complete
from kernel_model.consts import MAX_RT_PRIO, SCHED_FIFO, TASK_INTERRUPTIBLE, TASK_RUNNING
from kernel_model.cpu import CPU_ONLINE, CPU_UP_PREPARE
from kernel_model.kthread import kthread_create, kthread_should_stop
from kernel_model.list import INIT_LIST_HEAD
from kernel_model.percpu import per_cpu
from kernel_model.runtime import call_guest, guest_callable, might_sleep
from kernel_model.sched import (
    __migrate_task,
    __set_current_state,
    current,
    kthread_bind,
    migration_queue_next,
    sched_setscheduler_nocheck,
    schedule,
    set_current_state,
    wake_up_process,
)


@might_sleep
def per_cpu_thread_job(kern):
    """The stand-in job: where am I, as guest code reads it."""
    cpu = yield from call_guest(kern.symbols["raw_smp_processor_id"])
    kern.tracepoint("percpu_thread", task=current(kern), cpu=cpu)


@might_sleep
def per_cpu_thread_loop(kern):
    """Work once per wake-up on whatever CPU we are on, until told to stop."""
    while not kthread_should_stop(kern):
        yield from per_cpu_thread_job(kern)
        set_current_state(kern, TASK_INTERRUPTIBLE)
        if not kthread_should_stop(kern):
            yield from schedule(kern)
        __set_current_state(kern, TASK_RUNNING)
    return 0


@guest_callable(nargs=1)
@might_sleep
def migration_thread(kern, cpu):
    """Serve this CPU's migration queue: move each task handed to us, then tell
    whoever waits (kernel/sched.c); the stand-in job once the queue is empty."""
    set_current_state(kern, TASK_INTERRUPTIBLE)
    while not kthread_should_stop(kern):
        req = migration_queue_next(kern, cpu)
        if req is None:
            yield from per_cpu_thread_job(kern)
            yield from schedule(kern)
            set_current_state(kern, TASK_INTERRUPTIBLE)
            continue
        __migrate_task(kern, kern.task(req.task), cpu, req.dest_cpu)
        complete(kern, req.done)
    __set_current_state(kern, TASK_RUNNING)
    return 0


@guest_callable(nargs=1)
@might_sleep
def ksoftirqd(kern, bind_cpu):
    return (yield from per_cpu_thread_loop(kern))


@guest_callable(nargs=1)
@might_sleep
def cpu_stopper_thread(kern, data):
    return (yield from per_cpu_thread_loop(kern))


@guest_callable(nargs=1)
@might_sleep
def watchdog(kern, bind_cpu):
    # The watchdog makes itself the highest-priority real-time task.
    sched_setscheduler_nocheck(kern, current(kern), SCHED_FIFO, MAX_RT_PRIO - 1)
    return (yield from per_cpu_thread_loop(kern))


@guest_callable(nargs=1)
@might_sleep
def worker_thread(kern, cwq):
    return (yield from per_cpu_thread_loop(kern))


def _named(func, name: str):
    """``func`` under the kernel's name, in backtraces too (its code's name)."""
    func.__code__ = func.__code__.replace(co_name=name, co_qualname=name)
    func.__name__ = func.__qualname__ = name
    return func


def cpu_stopper_of(kern, cpu: int):
    """per_cpu(cpu_stopper, cpu), set up as cpu_stop_init does for each CPU."""
    stopper = per_cpu(kern, cpu).cpu_stopper
    INIT_LIST_HEAD(kern.mem, stopper.works.addr)
    return stopper


def keventd_cwq_of(kern, cpu: int):
    """keventd_wq's cwq of ``cpu``, per_cpu_ptr(wq->cpu_wq, cpu), set up as
    init_cpu_workqueue does."""
    cwq = per_cpu(kern, cpu).keventd_cwq
    INIT_LIST_HEAD(kern.mem, cwq.worklist.addr)
    INIT_LIST_HEAD(kern.mem, cwq.more_work.task_list.addr)
    return cwq


def _bound_thread_callback(name: str, fn_name: str, namefmt: str, fifo: bool,
                           bind_at=CPU_UP_PREPARE, create_at=CPU_UP_PREPARE,
                           data=None):  # fmt: skip
    """CPU notifier ``name``: it creates (``create_at``) a thread running
    fn_name(the CPU number, or the struct ``data(kern, cpu)`` gives, which then
    names its thread), binds it (``bind_at``) and at CPU_ONLINE wakes it."""

    @might_sleep
    def callback(kern, action, cpu):
        threads = kern.percpu_threads.setdefault(cpu, {})
        if action == create_at:
            owner = data(kern, cpu) if data else None
            arg = cpu if owner is None else owner.addr
            p = yield from kthread_create(kern, kern.symbols[fn_name], arg, namefmt, cpu)
            threads[fn_name] = kern.task(p)
            if owner is not None:
                owner.thread = p
            if fifo:
                sched_setscheduler_nocheck(kern, threads[fn_name], SCHED_FIFO, MAX_RT_PRIO - 1)
            if fn_name == "migration_thread":
                kern.rq[cpu].migration_thread = p
        if action == bind_at:
            yield from kthread_bind(kern, threads[fn_name], cpu)
        if action == CPU_ONLINE:
            wake_up_process(kern, threads[fn_name])

    return _named(callback, name)


migration_call = _bound_thread_callback(
    "migration_call", "migration_thread", "migration/%d", fifo=True
)
ksoftirqd_cpu_callback = _bound_thread_callback(
    "ksoftirqd_cpu_callback", "ksoftirqd", "ksoftirqd/%d", fifo=False
)
cpu_stop_cpu_callback = _bound_thread_callback(
    "cpu_stop_cpu_callback", "cpu_stopper_thread", "migration/%d", fifo=True, bind_at=CPU_ONLINE,
    data=cpu_stopper_of,
)  # fmt: skip
softlockup_cpu_callback = _bound_thread_callback(
    "softlockup_cpu_callback", "watchdog", "watchdog/%d", fifo=False
)
# RHEL 6 (kernel/watchdog.c): watchdog_enable() at CPU_ONLINE does it all.
watchdog_cpu_callback = _bound_thread_callback(
    "watchdog_cpu_callback", "watchdog", "watchdog/%d", fifo=False, bind_at=CPU_ONLINE,
    create_at=CPU_ONLINE,
)  # fmt: skip
workqueue_cpu_callback = _bound_thread_callback(
    "workqueue_cpu_callback", "worker_thread", "events/%d", fifo=False, data=keventd_cwq_of
)


def early_initcall(name: str, callback, priority: int):
    """Initcall ``name``: it runs ``callback`` for the boot CPU and registers it."""

    @might_sleep
    def initcall(kern):
        yield from callback(kern, CPU_UP_PREPARE, kern.this_cpu)
        yield from callback(kern, CPU_ONLINE, kern.this_cpu)
        kern.cpu_notifiers.register_cpu_notifier(callback, priority)

    return _named(initcall, name)


migration_init = early_initcall("migration_init", migration_call, 10)
spawn_ksoftirqd = early_initcall("spawn_ksoftirqd", ksoftirqd_cpu_callback, 0)
cpu_stop_init = early_initcall("cpu_stop_init", cpu_stop_cpu_callback, 10)
spawn_softlockup_task = early_initcall("spawn_softlockup_task", softlockup_cpu_callback, 0)
# RHEL 6: not an initcall, called by kernel_init.
lockup_detector_init = early_initcall("lockup_detector_init", watchdog_cpu_callback, 0)
