"""The cache of task_struct and thread_info views (one view per slab slot
or stack, kept when the object is freed: a window on its address) stays
true across frees, reuse and snapshot restores, and never holds more than
one view per block."""

from kernel_model.consts import CLONE_FILES, CLONE_FS, EXIT_ZOMBIE, SIGCHLD
from kernel_model.exit import do_wait, release_task
from kernel_model.headers import task_struct, thread_info
from kernel_model.kthread import kthread_create
from kernel_model.process_32 import kernel_thread
from kernel_model.sched import schedule
from kernel_model.task import find_task_by_pid, for_each_process
from kthreadd_emu.scenario import SETTLE_EVENTS, booted_kernel, run_in_thread


def cached(kern, struct_type) -> set[int]:
    return set(kern.mem.views.get(struct_type, {}))


def blocks(pool) -> set[int]:
    return set(pool.free) | pool.allocated


def assert_one_view_per_block(kern):
    """Views only of slab slots and stacks (and init_task's, which is static data)."""
    assert cached(kern, task_struct) <= blocks(kern.mm.tasks) | {kern.data.init_task.addr}
    assert cached(kern, thread_info) <= blocks(kern.mm.stacks) | {kern.data.init_task.stack}
    for p in for_each_process(kern):
        assert kern.task(p.addr) is p


def test_a_task_has_one_view_and_its_slot_keeps_it_when_freed(demo, boot):
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
    assert kern.mem.views[task_struct][child.addr] is child
    assert kern.mem.views[thread_info][seen["ti"].addr] is seen["ti"]
    assert_one_view_per_block(kern)


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
            # The reaped task is freed after an RCU grace period: our schedule().
            yield from schedule(k)

    boot(kern, main)
    first, second = views
    # One view per slot: the second task is read through the first one's view.
    assert first.addr == second.addr and first is second
    assert second.pid == pids[1] != pids[0]
    assert second.children.addr == second.addr + task_struct.OFFSETS["children"]


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


def test_restore_keeps_one_view_per_slot():
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
    assert_one_view_per_block(kern)

    # The slot is handed out again: its view reads the new task.
    def create_again(k, out):
        made["again"] = yield from kthread_create(k, k.demo.symbols["answer"], 0, "again")

    run_in_thread(kern, create_again)
    again = kern.task(made["again"])
    assert again.addr == fresh.addr and again is fresh and again.comm == b"again"


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
    assert zombie.addr not in kern.mm.tasks.allocated
    kern.restore(snap)
    back = find_task_by_pid(kern, pid)
    assert back is zombie and back.exit_state == EXIT_ZOMBIE and back.pid == pid
    assert_one_view_per_block(kern)
