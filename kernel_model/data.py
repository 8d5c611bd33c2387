"""The kernel's static data (.data/.bss): one struct laid at the DATA region.

Each field is a kernel global of the same name and gets a symbol, so
guest code and every output name it as the kernel does.
"""

from emu.structs import define_struct
from kernel_model.consts import NR_CPUS, THREAD_SIZE
from kernel_model.headers import (
    completion,
    kmem_cache,
    list_head,
    pid_namespace,
    spinlock_t,
    task_struct,
)

PIDMAP_BYTES = 4096  # one page of pid bitmap: BITS_PER_PAGE = 32768 pids
LOG_BUF_LEN = 1 << 17  # __LOG_BUF_LEN: CONFIG_LOG_BUF_SHIFT=17 (kernel_model/printk.py)
# include/linux/kmalloc_sizes.h up to 8 KiB (kernel_model/slab.py), and how many
# 8 KiB blocks the page allocator can hand out (64 MiB of RAM).
KMALLOC_SIZES = (32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192)
SLAB_BLOCKS = (64 << 20) // THREAD_SIZE

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
        # kernel/printk.c: the log ring and its indices.
        ("__log_buf", "bytes", LOG_BUF_LEN, f"char [{LOG_BUF_LEN}]"),
        ("log_buf", "ptr", "char *"),
        ("log_buf_len", "s32", "int"),
        ("log_start", "u32", "unsigned int"),
        ("con_start", "u32", "unsigned int"),
        ("log_end", "u32", "unsigned int"),
        ("logged_chars", "u32", "unsigned int"),
        ("new_text_line", "s32", "int"),
        ("printk_time", "s32", "int"),
        # mm/slab.c: kmalloc's general caches, and which cache each block serves
        # (its index + 1; 0: not a slab), where 2.6.32 keeps it in the page's lru.
        (
            "malloc_sizes",
            "bytes",
            len(KMALLOC_SIZES) * kmem_cache.SIZE,
            f"struct kmem_cache [{len(KMALLOC_SIZES)}]",
        ),
        ("slab_block_cache", "bytes", SLAB_BLOCKS, f"unsigned char [{SLAB_BLOCKS}]"),
    ],
)


def data_symbols(base: int) -> dict[str, int]:
    return {name: base + off for name, off in kernel_data.OFFSETS.items()}
