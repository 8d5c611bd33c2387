"""Constants of Linux 2.6.32 i386 (include/linux/sched.h, asm/thread_info.h,
asm-generic/errno-base.h, asm/processor-flags.h, include/linux/err.h).

Values checked against the 2.6.32 tree itself: the EFLAGS bits in
arch/x86/include/asm/processor-flags.h, STACK_END_MAGIC in include/linux/magic.h,
THREAD_SIZE in asm/page_32_types.h, the TIF bits and the thread_info layout in
asm/thread_info.h.
"""

THREAD_SIZE = 8192
TASK_COMM_LEN = 16
NR_CPUS = 256
STACK_END_MAGIC = 0x57AC6E9D
KERNEL_DS = 0xFFFFFFFF  # addr_limit of a kernel thread (mm_segment_t)
PREEMPT_ACTIVE = 0x10000000
INIT_PREEMPT_COUNT = 1 + PREEMPT_ACTIVE  # init_task's, until sched_init()'s init_idle()

# Task states (sched.h).
TASK_RUNNING = 0
TASK_INTERRUPTIBLE = 1
TASK_UNINTERRUPTIBLE = 2
__TASK_STOPPED = 4
__TASK_TRACED = 8
EXIT_ZOMBIE = 16
EXIT_DEAD = 32
TASK_DEAD = 64
TASK_WAKEKILL = 128
TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE
TASK_ALL = TASK_NORMAL | __TASK_STOPPED | __TASK_TRACED
TASK_REPORT = (
    TASK_RUNNING | TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE | __TASK_STOPPED | __TASK_TRACED
)  # what get_task_state() reports of ->state

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

# thread_info flags (arch/x86/include/asm/thread_info.h, 2.6.32).  The low
# word is work to do before returning (entry_32.S tests it); the masks are
# built from the bits as the header builds them.
TIF_SYSCALL_TRACE = 0  # syscall trace active
TIF_NOTIFY_RESUME = 1  # callback before returning to user
TIF_SIGPENDING = 2  # signal pending
TIF_NEED_RESCHED = 3  # rescheduling necessary
TIF_SINGLESTEP = 4  # reenable singlestep on user return
TIF_IRET = 5  # force IRET
TIF_SYSCALL_EMU = 6  # syscall emulation active
TIF_SYSCALL_AUDIT = 7  # syscall auditing active
TIF_SECCOMP = 8  # secure computing
TIF_MCE_NOTIFY = 10  # notify userspace of an MCE
TIF_NOTSC = 16  # TSC is not accessible in userland
TIF_IA32 = 17  # 32bit process
TIF_FORK = 18  # ret_from_fork
TIF_ABI_PENDING = 19
TIF_MEMDIE = 20
TIF_DEBUG = 21  # uses debug registers
TIF_IO_BITMAP = 22  # uses I/O bitmap
TIF_FREEZE = 23  # is freezing for suspend
TIF_FORCED_TF = 24  # true if TF in eflags artificially
TIF_DEBUGCTLMSR = 25  # uses thread_struct.debugctlmsr
TIF_DS_AREA_MSR = 26  # uses thread_struct.ds_area_msr
TIF_LAZY_MMU_UPDATES = 27  # task is updating the mmu lazily
TIF_SYSCALL_TRACEPOINT = 28  # syscall tracepoint instrumentation

_TIF_SYSCALL_TRACE = 1 << TIF_SYSCALL_TRACE
_TIF_NEED_RESCHED = 1 << TIF_NEED_RESCHED
_TIF_SINGLESTEP = 1 << TIF_SINGLESTEP
_TIF_SYSCALL_EMU = 1 << TIF_SYSCALL_EMU
_TIF_SYSCALL_AUDIT = 1 << TIF_SYSCALL_AUDIT
_TIF_SECCOMP = 1 << TIF_SECCOMP
_TIF_SYSCALL_TRACEPOINT = 1 << TIF_SYSCALL_TRACEPOINT

# Work to do on interrupt/exception return.
_TIF_WORK_MASK = 0x0000FFFF & ~(
    _TIF_SYSCALL_TRACE | _TIF_SYSCALL_AUDIT | _TIF_SINGLESTEP | _TIF_SECCOMP | _TIF_SYSCALL_EMU
)
# Work to do on any return to user space (what syscall_exit tests).
_TIF_ALLWORK_MASK = (0x0000FFFF & ~_TIF_SECCOMP) | _TIF_SYSCALL_TRACEPOINT

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

# Scheduling domain flags (sched.h); also why select_task_rq() is asked.
SD_LOAD_BALANCE = 0x0001
SD_BALANCE_NEWIDLE = 0x0002
SD_BALANCE_EXEC = 0x0004
SD_BALANCE_FORK = 0x0008
SD_BALANCE_WAKE = 0x0010
SD_WAKE_AFFINE = 0x0020

SCHED_NORMAL = 0
SCHED_FIFO = 1
MAX_RT_PRIO = 100
MAX_PRIO = MAX_RT_PRIO + 40
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
