"""Constants of Linux 2.6.32 i386 (include/linux/sched.h, asm/thread_info.h,
asm-generic/errno-base.h, asm/processor-flags.h, include/linux/err.h).

Values checked in ../shared/reference/linux-i386-kthread.md (§5.5, §6).
"""

THREAD_SIZE = 8192
TASK_COMM_LEN = 16
NR_CPUS = 256
STACK_END_MAGIC = 0x57AC6E9D
KERNEL_DS = 0xFFFFFFFF  # addr_limit of a kernel thread (mm_segment_t)

# Task states (sched.h).
TASK_RUNNING = 0
TASK_INTERRUPTIBLE = 1
TASK_UNINTERRUPTIBLE = 2
__TASK_STOPPED = 4
__TASK_TRACED = 8
EXIT_ZOMBIE = 16
EXIT_DEAD = 32
TASK_DEAD = 64

# Clone flags (sched.h).
CSIGNAL = 0x000000FF
CLONE_VM = 0x00000100
CLONE_FS = 0x00000200
CLONE_FILES = 0x00000400
CLONE_SIGHAND = 0x00000800
CLONE_PTRACE = 0x00002000
CLONE_VFORK = 0x00004000
CLONE_PARENT = 0x00008000
CLONE_THREAD = 0x00010000
CLONE_SETTLS = 0x00080000
CLONE_UNTRACED = 0x00800000

SIGKILL = 9
SIGBUS = 7
SIGSEGV = 11
SIGCHLD = 17

# Per-process flags (sched.h).
PF_STARTING = 0x00000002
PF_EXITING = 0x00000004
PF_FORKNOEXEC = 0x00000040
PF_SUPERPRIV = 0x00000100
PF_NOFREEZE = 0x00008000
PF_KTHREAD = 0x00200000
PF_THREAD_BOUND = 0x04000000
PF_FREEZER_NOSIG = 0x80000000

# thread_info flags (asm/thread_info.h, 2.6.32; bit numbers from memory, UNCONFIRMED
# beyond SIGPENDING/NEED_RESCHED/FREEZE).
TIF_SYSCALL_TRACE = 0
TIF_SIGPENDING = 1
TIF_NEED_RESCHED = 2
TIF_SINGLESTEP = 3
TIF_SYSCALL_EMU = 5
TIF_SYSCALL_AUDIT = 6
TIF_SECCOMP = 7
TIF_FREEZE = 23
TIF_SYSCALL_TRACEPOINT = 28
_TIF_WORK_MASK = 0x0000FFFF & ~(
    1 << TIF_SYSCALL_TRACE
    | 1 << TIF_SYSCALL_AUDIT
    | 1 << TIF_SINGLESTEP
    | 1 << TIF_SECCOMP
    | 1 << TIF_SYSCALL_EMU
)
_TIF_ALLWORK_MASK = (0x0000FFFF & ~(1 << TIF_SECCOMP)) | 1 << TIF_SYSCALL_TRACEPOINT

# errno (asm-generic/errno-base.h, errno.h).
EINTR = 4
EAGAIN = 11
ENOMEM = 12
EINVAL = 22
ECHILD = 10
MAX_ERRNO = 4095

# EFLAGS bits (asm/processor-flags.h).
X86_EFLAGS_CF = 0x00000001
X86_EFLAGS_PF = 0x00000004
X86_EFLAGS_TF = 0x00000100
X86_EFLAGS_ZF = 0x00000040
X86_EFLAGS_SF = 0x00000080
X86_EFLAGS_IF = 0x00000200
X86_EFLAGS_VM = 0x00020000

# Segment selector bits (asm/segment.h).
SEGMENT_RPL_MASK = 0x3
SEGMENT_TI_MASK = 0x4
SEGMENT_LDT = 0x4

# Scheduling (sched.h).
SCHED_NORMAL = 0
SCHED_FIFO = 1
MAX_RT_PRIO = 100
NICE_0_PRIO = MAX_RT_PRIO + 20


def ERR_PTR(error: int) -> int:
    """ERR_PTR(): a negative errno as a pointer value."""
    return error & 0xFFFFFFFF


def IS_ERR(ptr: int) -> bool:
    """IS_ERR(): the top MAX_ERRNO pointer values are errors."""
    return (ptr & 0xFFFFFFFF) >= (-MAX_ERRNO & 0xFFFFFFFF)


def PTR_ERR(ptr: int) -> int:
    """PTR_ERR(): the errno an ERR_PTR carries (negative)."""
    return ptr - (1 << 32) if ptr & 0x80000000 else ptr
