"""The kernel structs other than pt_regs, one typed view each, kernel field names.

Mirrors (2.6.32 i386): include/linux/list.h (list_head),
include/linux/completion.h, asm/thread_info.h, asm/processor.h
(thread_struct, the tss sp0), include/linux/sched.h (task_struct),
asm/stackprotector.h (stack_canary), kernel/kthread.c (kthread_create_info,
kthread).

Field order follows the kernel; only the fields the model uses are
present, so byte offsets inside task_struct are ours, not vmlinux's.
Guest code never hard-codes them: asm_offsets.py hands them to the
assembler as TASK_* symbols, as asm-offsets_32.c does.
"""

from emu.structs import define_struct
from kernel_model.consts import NR_CPUS, TASK_COMM_LEN

list_head = define_struct("list_head", [("next", "ptr"), ("prev", "ptr")])

spinlock_t = define_struct("spinlock_t", [("slock", "u32")])

# A wait queue is a lock plus a list of waiters.
wait_queue_head_t = define_struct(
    "wait_queue_head_t", [("lock", spinlock_t), ("task_list", list_head)]
)

completion = define_struct("completion", [("done", "u32"), ("wait", wait_queue_head_t)])

# A waiter on a wait queue: the task and its link in task_list.
wait_queue_t = define_struct(
    "wait_queue_t",
    [("flags", "u32"), ("private", "ptr"), ("func", "ptr"), ("task_list", list_head)],
)

# include/linux/thread_info.h: fn, then a union whose largest member (futex:
# uaddr, val, flags, bitset, u64 time, uaddr2; u64 is 4-aligned on i386) is
# 28 bytes.
restart_block = define_struct("restart_block", [("fn", "ptr"), ("__union", "bytes", 28)])

thread_info = define_struct(
    "thread_info",
    [
        ("task", "ptr"),
        ("exec_domain", "ptr"),
        ("flags", "u32"),
        ("status", "u32"),
        ("cpu", "u32"),
        ("preempt_count", "s32"),
        ("addr_limit", "u32"),
        ("restart_block", restart_block),
        ("sysenter_return", "ptr"),
        ("previous_esp", "u32"),
        ("uaccess_err", "s32"),
    ],
)

thread_struct = define_struct(
    "thread_struct",
    [
        ("tls_array", "bytes", 24),
        ("sp0", "u32"),
        ("sp", "u32"),
        ("sysenter_cs", "u32"),
        ("ip", "u32"),
        ("gs", "u32"),
    ],
)

task_struct = define_struct(
    "task_struct",
    [
        ("state", "s32"),
        ("stack", "ptr"),
        ("usage", "s32"),
        ("flags", "u32"),
        ("prio", "s32"),
        ("static_prio", "s32"),
        ("normal_prio", "s32"),
        ("rt_priority", "u32"),
        ("policy", "u32"),
        ("cpus_allowed", "bits", NR_CPUS // 8),
        ("tasks", list_head),
        ("exit_state", "s32"),
        ("exit_code", "s32"),
        ("exit_signal", "s32"),
        ("pid", "s32"),
        ("tgid", "s32"),
        ("stack_canary", "u32"),
        ("real_parent", "ptr"),
        ("parent", "ptr"),
        ("children", list_head),
        ("sibling", list_head),
        ("vfork_done", "ptr"),
        ("utime", "u32"),
        ("stime", "u32"),
        ("nvcsw", "u32"),
        ("start_time", "u32"),
        ("comm", "char", TASK_COMM_LEN),
        ("thread", thread_struct),
        ("signal_ignored", "u32"),
    ],
)

# struct pid_namespace (include/linux/pid_namespace.h), reduced to who adopts orphans.
pid_namespace = define_struct("pid_namespace", [("child_reaper", "ptr")])

stack_canary = define_struct("stack_canary", [("__pad", "bytes", 20), ("canary", "u32")])

# struct tss_struct reduced to what __switch_to's load_sp0 touches.
tss_struct = define_struct("tss_struct", [("back_link", "u32"), ("sp0", "u32"), ("ss0", "u32")])

# kernel/stop_machine.c (RHEL 6's cpu_stop backport): the stopper of one CPU,
# its thread's data.
cpu_stopper = define_struct(
    "cpu_stopper",
    [("lock", spinlock_t), ("enabled", "u32"), ("works", list_head), ("thread", "ptr")],
)

# kernel/workqueue.c: a workqueue's part on one CPU, its worker thread's data.
cpu_workqueue_struct = define_struct(
    "cpu_workqueue_struct",
    [
        ("lock", spinlock_t),
        ("worklist", list_head),
        ("more_work", wait_queue_head_t),
        ("current_work", "ptr"),
        ("wq", "ptr"),
        ("thread", "ptr"),
    ],
)

# One CPU's per-CPU area (.data.percpu): gdt_page is page aligned and first.
# events_cwq stands for the "events" workqueue's alloc_percpu() chunk.
percpu_area = define_struct(
    "percpu_area",
    [
        ("gdt_page", "bytes", 4096),
        ("current_task", "ptr"),
        ("cpu_number", "u32"),
        ("this_cpu_off", "u32"),
        ("stack_canary", stack_canary),
        ("init_tss", tss_struct),
        ("cpu_stopper", cpu_stopper),
        ("events_cwq", cpu_workqueue_struct),
    ],
)

# kernel/kthread.c, 2.6.32 form.
kthread_create_info = define_struct(
    "kthread_create_info",
    [
        ("threadfn", "ptr"),
        ("data", "ptr"),
        ("result", "ptr"),
        ("done", completion),
        ("list", list_head),
    ],
)

kthread = define_struct("kthread", [("should_stop", "s32"), ("exited", completion)])

# kernel/sched.c: a task handed to a CPU's migration thread (on the asker's stack).
migration_req = define_struct(
    "migration_req",
    [("list", list_head), ("task", "ptr"), ("dest_cpu", "s32"), ("done", completion)],
)
