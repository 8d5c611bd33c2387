"""Boot after init/main.c (2.6.32): rest_init creates kernel_init (pid 1) and
kthreadd (pid 2); kernel_init runs the early initcalls, brings the other
CPUs up (forking their idle tasks), builds the scheduling domains, creates
the keventd workqueue threads, then would exec /sbin/init.

There is no userspace: kernel_init renames itself "init" (what the exec
would show) and sleeps forever.  Profiles: "rhel6" (the seed's machine:
RHEL 6.3's 2.6.32-279.el6, checked in csg109/kernel-2.6.32, whose cpu_stop
backport adds a second "migration/%d" thread per CPU beside the scheduler's
migration_thread, and whose watchdog threads come from kernel/watchdog.c;
later RHEL 6 releases name the cpu_stop thread "stopper/%d") and "vanilla"
(upstream 2.6.32).  RHEL 6's kernel_init first waits for kthreadd_done and
starts the boot CPU's watchdog itself (lockup_detector_init).
"""

from kernel_model.completion import complete, wait_for_completion
from kernel_model.consts import CLONE_FILES, CLONE_FS, CLONE_SIGHAND, TASK_INTERRUPTIBLE
from kernel_model.cpu import CPU_ONLINE, CPU_UP_PREPARE, cpu_up
from kernel_model.exit import reparent_to_kthreadd
from kernel_model.kthread import kthreadd, set_task_comm  # noqa: F401  (kthreadd's thunk)
from kernel_model.percpu_threads import (
    cpu_stop_init,
    lockup_detector_init,
    migration_init,
    spawn_ksoftirqd,
    spawn_softlockup_task,
    workqueue_cpu_callback,
)
from kernel_model.process_32 import kernel_thread
from kernel_model.runtime import guest_callable, might_sleep
from kernel_model.sched import (
    cpu_all_mask,
    current,
    sched_init_smp,
    schedule,
    set_cpus_allowed_ptr,
    set_current_state,
)
from kernel_model.task import find_task_by_pid

# Early initcalls in kernel/Makefile link order.
PROFILES = {
    "rhel6": (migration_init, spawn_ksoftirqd, cpu_stop_init),
    "vanilla": (migration_init, spawn_ksoftirqd, spawn_softlockup_task),
}


class ProfileError(Exception):
    pass


def check_profile(name: str) -> None:
    if name not in PROFILES:
        raise ProfileError(f"unknown profile {name!r} (choose from {', '.join(PROFILES)})")


@might_sleep
def rest_init(kern):
    """The boot task's last job: start init and kthreadd, then become the idle task."""
    kernel_thread(kern, kern.symbols["kernel_init"], 0, CLONE_FS | CLONE_SIGHAND)
    pid = kernel_thread(kern, kern.symbols["kthreadd"], 0, CLONE_FS | CLONE_FILES)
    kern.data.kthreadd_task = find_task_by_pid(kern, pid).addr
    if kern.profile == "rhel6":
        complete(kern, kern.data.kthreadd_done)
    # The boot idle thread must execute schedule() at least once to get things moving.
    yield from schedule(kern)


@might_sleep
def do_pre_smp_initcalls(kern):
    for initcall in PROFILES[kern.profile]:
        yield from initcall(kern)


@might_sleep
def smp_init(kern):
    """Bring up every CPU not yet online (a failed one stays down)."""
    for cpu in range(len(kern.rq)):
        if not kern.cpu_notifiers.online >> cpu & 1:
            yield from cpu_up(kern, cpu)


@might_sleep
def init_workqueues(kern):
    """create_workqueue("events"): one bound worker per online CPU."""
    kern.cpu_notifiers.register_cpu_notifier(workqueue_cpu_callback, 0)
    for cpu in range(len(kern.rq)):
        yield from workqueue_cpu_callback(kern, CPU_UP_PREPARE, cpu)
        yield from workqueue_cpu_callback(kern, CPU_ONLINE, cpu)


@guest_callable(nargs=1)
@might_sleep
def kernel_init(kern, unused):
    """pid 1."""
    if kern.profile == "rhel6":
        # Wait until kthreadd is all set-up.
        yield from wait_for_completion(kern, kern.data.kthreadd_done)
    # init can run on any CPU.
    yield from set_cpus_allowed_ptr(kern, current(kern), cpu_all_mask(kern))
    # Tell the world that we're going to be the grim reaper of innocent orphaned children.
    kern.data.init_pid_ns.child_reaper = current(kern).addr
    yield from do_pre_smp_initcalls(kern)
    if kern.profile == "rhel6":
        yield from lockup_detector_init(kern)
    yield from smp_init(kern)
    sched_init_smp(kern)
    yield from init_workqueues(kern)  # do_basic_setup()'s first step
    # Stands for run_init_process("/sbin/init"): there is no userspace to exec.
    set_task_comm(kern, current(kern), "init")
    kern.booted = True
    while True:
        set_current_state(kern, TASK_INTERRUPTIBLE)
        yield from schedule(kern)


@guest_callable(nargs=1)
@might_sleep
def python_thread(kern, token):
    """Not in Linux: the body of a kernel thread that a tool starts with
    Kernel.spawn() to run Python code (a test, a demo) as a real task.  On a
    booted machine it daemonizes, as a 2.6.32 kernel_thread() user that nobody
    waits for does, so kthreadd reaps it when it ends."""
    name, main = kern.spawned.pop(token)
    if kern.data.kthreadd_task:
        reparent_to_kthreadd(kern)
    set_task_comm(kern, current(kern), name)
    return (yield from main(kern))
