"""The kernel's static data (.data/.bss): one struct laid at the DATA region.

Each field is a kernel global of the same name and gets a symbol, so
guest code and every output name it as the kernel does.
"""

from emu.structs import define_struct
from kernel_model.consts import NR_CPUS, THREAD_SIZE
from kernel_model.headers import completion, list_head, pid_namespace, spinlock_t, task_struct

PIDMAP_BYTES = 4096  # one page of pid bitmap: BITS_PER_PAGE = 32768 pids

kernel_data = define_struct(
    "kernel_data",
    [
        # First, so THREAD_SIZE aligned; a union thread_union, here its stack member.
        ("init_thread_union", "bytes", THREAD_SIZE, f"unsigned long [{THREAD_SIZE // 4}]"),
        ("pidmap", "bytes", PIDMAP_BYTES),  # the page of the kernel's struct pidmap
        ("init_task", task_struct),
        ("init_pid_ns", pid_namespace),
        ("__per_cpu_offset", "bytes", 4 * NR_CPUS, f"unsigned long [{NR_CPUS}]"),
        ("kthread_create_list", list_head),
        ("kthread_create_lock", spinlock_t),
        ("kthreadd_task", "ptr", "struct task_struct *"),
        ("kthreadd_done", completion),  # RHEL 6's init/main.c (vanilla has none)
        ("jiffies", "u32", "unsigned long"),  # volatile
        ("nr_threads", "s32", "int"),
        ("last_pid", "s32", "int"),
        ("pidmap_nr_free", "s32", "int"),  # the pidmap's atomic_t nr_free
    ],
)


def data_symbols(base: int) -> dict[str, int]:
    return {name: base + off for name, off in kernel_data.OFFSETS.items()}
