"""The cache of task_struct and thread_info views (one view per live object,
dropped when the object is freed) stays true across frees, reuse and
snapshot restores."""

from kernel_model.consts import CLONE_FILES, CLONE_FS, EXIT_ZOMBIE, SIGCHLD
from kernel_model.exit import do_wait, release_task
from kernel_model.headers import task_struct, thread_info
from kernel_model.kthread import kthread_create
from kernel_model.process_32 import kernel_thread
from kernel_model.task import find_task_by_pid, for_each_process
from kthreadd_emu.scenario import SETTLE_EVENTS, booted_kernel, run_in_thread


def cached(kern, struct_type) -> set[int]:
    return set(kern.mem.views.get(struct_type, {}))


def assert_only_live_objects_cached(kern):
    tasks = {p.addr for p in for_each_process(kern)}
    assert cached(kern, task_struct) <= tasks | {kern.data.init_task.addr}
    assert cached(kern, task_struct) - {kern.data.init_task.addr} <= kern.mm.tasks.allocated
    assert cached(kern, thread_info) <= kern.mm.stacks.allocated | {kern.data.init_task.stack}


def test_a_task_has_one_view_and_loses_it_when_freed(demo, boot):
    kern, image = demo
    seen = {}

    def main(k, out):
        pid = kernel_thread(k, image.symbols["answer"], 3, CLONE_FS | CLONE_FILES | SIGCHLD)
        child = find_task_by_pid(k, pid)
        seen["child"], seen["again"] = child, k.task(child.addr)
        seen["ti"] = thread_info(k.mem, child.stack)
        seen["cached"] = child.addr in cached(k, task_struct)
        out["ret"] = yield from do_wait(k, pid)

    assert boot(kern, main)["ret"][0] == kern.data.last_pid
    child = seen["child"]
    assert seen["again"] is child and seen["cached"]
    assert child.addr not in kern.mm.tasks.allocated
    assert child.addr not in cached(kern, task_struct)
    assert seen["ti"].addr not in cached(kern, thread_info)
    assert_only_live_objects_cached(kern)


def test_a_freed_slot_reused_reads_the_new_task(demo, boot):
    kern, image = demo
    fn, flags = image.symbols["answer"], CLONE_FS | CLONE_FILES | SIGCHLD
    pids, views = [], []

    def main(k, out):
        for arg in (1, 2):
            pid = kernel_thread(k, fn, arg, flags)
            views.append(find_task_by_pid(k, pid))
            pids.append(pid)
            yield from do_wait(k, pid)

    boot(kern, main)
    first, second = views
    assert first.addr == second.addr and first is not second
    # The stale view is a window on the same bytes: it reads the new task.
    assert first.pid == second.pid == pids[1] != pids[0]


def make_zombie(kern) -> int:
    """A child whose parent never waits: it stays a zombie."""

    def spawn_child(k, out):
        flags = CLONE_FS | CLONE_FILES | SIGCHLD
        out["pid"] = kernel_thread(k, k.demo.symbols["answer"], 7, flags)
        yield from ()

    pid = run_in_thread(kern, spawn_child)["pid"]
    kern.run(max_events=SETTLE_EVENTS)
    assert find_task_by_pid(kern, pid).exit_state == EXIT_ZOMBIE
    return pid


def test_restore_forgets_views_of_tasks_created_since():
    kern = booted_kernel(1)
    kern.run(max_events=SETTLE_EVENTS)
    snap = kern.snapshot()
    made = {}

    def create(k, out):
        made["task"] = yield from kthread_create(k, k.demo.symbols["answer"], 0, "fresh")

    run_in_thread(kern, create)
    kern.run(max_events=SETTLE_EVENTS)
    fresh = kern.task(made["task"])
    assert kern.task(fresh.addr) is fresh and fresh.comm == b"fresh"
    assert fresh.addr in cached(kern, task_struct)
    kern.restore(snap)
    assert fresh.addr not in kern.mm.tasks.allocated
    assert fresh.addr not in cached(kern, task_struct)
    assert_only_live_objects_cached(kern)

    # The slot is handed out again: what the cache gives is the new task.
    def create_again(k, out):
        made["again"] = yield from kthread_create(k, k.demo.symbols["answer"], 0, "again")

    run_in_thread(kern, create_again)
    again = kern.task(made["again"])
    assert again.addr == fresh.addr and again is not fresh and kern.task(again.addr) is again
    assert again.comm == fresh.comm == b"again"  # the old view is a window on the same bytes


def test_restore_brings_back_a_task_freed_since():
    kern = booted_kernel(1)
    pid = make_zombie(kern)
    zombie = find_task_by_pid(kern, pid)
    snap = kern.snapshot()

    def reap(k, out):
        release_task(k, zombie)
        yield from ()

    run_in_thread(kern, reap)
    kern.run(max_events=SETTLE_EVENTS)
    assert find_task_by_pid(kern, pid) is None
    assert zombie.addr not in cached(kern, task_struct)
    kern.restore(snap)
    back = find_task_by_pid(kern, pid)
    assert back.addr == zombie.addr and kern.task(back.addr) is back
    assert back is not zombie and back.exit_state == EXIT_ZOMBIE and back.pid == pid
    assert_only_live_objects_cached(kern)
