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

Each field says, after how it is stored, the C type the kernel declares it
with (the DWARF gdb reads, kthreadd_emu/for_gdb/kernel_elf.py, comes from these).
"""

from emu.segment import GDT_ENTRIES
from emu.structs import define_struct
from kernel_model.consts import NR_CPUS, TASK_COMM_LEN

list_head = define_struct(
    "list_head", [("next", "ptr", "struct list_head *"), ("prev", "ptr", "struct list_head *")]
)

# One-member structs the kernel wraps a word in (include/linux/types.h,
# asm/processor.h, include/linux/cpumask.h): a field of these types is stored
# and read as the member itself (p.usage is an int).
atomic_t = define_struct("atomic_t", [("counter", "s32", "int")], tag="")
mm_segment_t = define_struct("mm_segment_t", [("seg", "u32", "unsigned long")], tag="")
cpumask_t = define_struct(
    "cpumask_t", [("bits", "bits", NR_CPUS // 8, f"unsigned long [{NR_CPUS // 32}]")], tag="cpumask"
)

# asm/desc_defs.h: a segment descriptor as its two words (the first member of
# the kernel's union; the bitfield view is not modelled).
desc_struct = define_struct("desc_struct", [("a", "u32"), ("b", "u32")])

# asm/desc.h: the per-CPU GDT, padded to its page (__aligned(PAGE_SIZE)).
gdt_page = define_struct(
    "gdt_page",
    [("gdt", "bytes", 8 * GDT_ENTRIES, f"struct desc_struct [{GDT_ENTRIES}]"),
     ("__page_pad", "bytes", 4096 - 8 * GDT_ENTRIES)],
)  # fmt: skip

# Deviation: spinlock_t's raw_spinlock_t raw_lock is flattened to its slock.
spinlock_t = define_struct("spinlock_t", [("slock", "u32", "unsigned int")], tag="")

# A wait queue is a lock plus a list of waiters.
wait_queue_head_t = define_struct(
    "wait_queue_head_t", [("lock", spinlock_t), ("task_list", list_head)], tag="__wait_queue_head"
)

completion = define_struct(
    "completion", [("done", "u32", "unsigned int"), ("wait", wait_queue_head_t)]
)

# A waiter on a wait queue: the task and its link in task_list.
wait_queue_t = define_struct(
    "wait_queue_t",
    [
        ("flags", "u32", "unsigned int"),
        ("private", "ptr", "void *"),
        ("func", "ptr", "int (*)(wait_queue_t *, unsigned int, int, void *)"),
        ("task_list", list_head),
    ],
    tag="__wait_queue",
)

# include/linux/thread_info.h: fn, then a union whose largest member (futex:
# uaddr, val, flags, bitset, u64 time, uaddr2; u64 is 4-aligned on i386) is
# 28 bytes (here its bytes).
restart_block = define_struct(
    "restart_block",
    [("fn", "ptr", "long (*)(struct restart_block *)"), ("__union", "bytes", 28)],
)

thread_info = define_struct(
    "thread_info",
    [
        ("task", "ptr", "struct task_struct *"),
        ("exec_domain", "ptr", "struct exec_domain *"),
        ("flags", "u32", "__u32"),
        ("status", "u32", "__u32"),
        ("cpu", "u32", "__u32"),
        ("preempt_count", "s32", "int"),
        ("addr_limit", "u32", "mm_segment_t"),
        ("restart_block", restart_block),
        ("sysenter_return", "ptr", "void *"),
        ("previous_esp", "u32", "unsigned long"),
        ("uaccess_err", "s32", "int"),
    ],
)

thread_struct = define_struct(
    "thread_struct",
    [
        ("tls_array", "bytes", 24, "struct desc_struct [3]"),
        ("sp0", "u32", "unsigned long"),
        ("sp", "u32", "unsigned long"),
        ("sysenter_cs", "u32", "unsigned long"),
        ("ip", "u32", "unsigned long"),
        ("gs", "u32", "unsigned long"),
    ],
)

task_struct = define_struct(
    "task_struct",
    [
        ("state", "s32", "long"),  # volatile
        ("stack", "ptr", "void *"),
        ("usage", "s32", "atomic_t"),
        ("flags", "u32", "unsigned int"),
        ("prio", "s32", "int"),
        ("static_prio", "s32", "int"),
        ("normal_prio", "s32", "int"),
        ("rt_priority", "u32", "unsigned int"),
        ("policy", "u32", "unsigned int"),
        ("cpus_allowed", "bits", NR_CPUS // 8, "cpumask_t"),
        ("tasks", list_head),
        ("exit_state", "s32", "int"),
        ("exit_code", "s32", "int"),
        ("exit_signal", "s32", "int"),
        ("pid", "s32", "pid_t"),
        ("tgid", "s32", "pid_t"),
        ("stack_canary", "u32", "unsigned long"),
        ("real_parent", "ptr", "struct task_struct *"),
        ("parent", "ptr", "struct task_struct *"),
        ("children", list_head),
        ("sibling", list_head),
        ("vfork_done", "ptr", "struct completion *"),
        ("utime", "u32", "cputime_t"),
        ("stime", "u32", "cputime_t"),
        ("nvcsw", "u32", "unsigned long"),
        # Deviation: jiffies at fork, where 2.6.32 keeps a struct timespec.
        ("start_time", "u32", "unsigned long"),
        ("comm", "char", TASK_COMM_LEN),
        ("thread", thread_struct),
        # Not the kernel's: whether SIGCHLD is ignored (its sighand's SIG_IGN).
        ("signal_ignored", "u32", "unsigned int"),
    ],
)

# struct pid_namespace (include/linux/pid_namespace.h), reduced to who adopts orphans.
pid_namespace = define_struct("pid_namespace", [("child_reaper", "ptr", "struct task_struct *")])

stack_canary = define_struct(
    "stack_canary", [("__pad", "bytes", 20, "char [20]"), ("canary", "u32", "unsigned long")]
)

# struct tss_struct reduced to what __switch_to's load_sp0 touches (its x86_tss's
# back_link, sp0 and ss0, each a word here).
tss_struct = define_struct(
    "tss_struct",
    [("back_link", "u32"), ("sp0", "u32", "unsigned long"), ("ss0", "u32")],
)

# kernel/stop_machine.c (RHEL 6's backport): what cpu_stopper_thread serves.
cpu_stopper = define_struct(
    "cpu_stopper",
    [("lock", spinlock_t), ("enabled", "u8"), ("works", list_head), ("thread", "ptr")],
)

# kernel/workqueue.c: a workqueue's part on one CPU, what worker_thread serves
# (____cacheline_aligned there; not here).
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
percpu_area = define_struct(
    "percpu_area",
    [
        ("gdt_page", "bytes", 4096, "struct gdt_page"),
        ("current_task", "ptr", "struct task_struct *"),
        ("cpu_number", "s32", "int"),
        ("this_cpu_off", "u32", "unsigned long"),
        ("stack_canary", stack_canary),
        ("init_tss", tss_struct),
        ("cpu_stopper", cpu_stopper),
        # keventd_wq->cpu_wq: alloc_percpu()'d in 2.6.32, in this same per-CPU unit.
        ("keventd_cwq", cpu_workqueue_struct),
    ],
)

# kernel/kthread.c, 2.6.32 form.
kthread_create_info = define_struct(
    "kthread_create_info",
    [
        ("threadfn", "ptr", "int (*)(void *)"),
        ("data", "ptr", "void *"),
        ("result", "ptr", "struct task_struct *"),
        ("done", completion),
        ("list", list_head),
    ],
)

kthread = define_struct("kthread", [("should_stop", "s32", "int"), ("exited", completion)])

# kernel/sched.c: a task handed to a CPU's migration thread (on the asker's stack).
migration_req = define_struct(
    "migration_req",
    [
        ("list", list_head),
        ("task", "ptr", "struct task_struct *"),
        ("dest_cpu", "s32", "int"),
        ("done", completion),
    ],
)

# mm/slab.c, reduced: one general cache of kmalloc's (kernel_model/slab.py), its
# free objects chained through their first word.
kmem_cache = define_struct(
    "kmem_cache",
    [
        ("buffer_size", "u32", "unsigned int"),
        ("num", "u32", "unsigned int"),
        ("free", "ptr", "void *"),
        ("active", "u32", "unsigned long"),
        ("slabs", "u32", "unsigned long"),
    ],
)
