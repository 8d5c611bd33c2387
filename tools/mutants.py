"""Mutation testing of the kernel's code: would the test suite notice a bug?

Each mutant is one small change to the kernel (a file, a piece of code found
once in it, its replacement, and why the change is a bug).  Python code is
found by its syntax tree inside a named function, so reformatting a file does
not lose a mutant; assembly by its exact text.  The
tool applies each mutant alone to a temporary copy of the tree (never to the
working tree), runs the test suite there, and says whether a test failed
(killed), none did (survived), or the text is no longer in the file
(does-not-apply).  It exits non-zero unless every mutant is killed.

    python tools/mutants.py [--jobs 2] [--only TEXT] [--list] [TEST_PATH...]

The copy's own code is the one tested: pytest runs with the copy as its
working directory and first on PYTHONPATH, and the tool checks that the copy's
packages are the ones imported before it starts, then that the unmutated copy
passes (otherwise every mutant would look killed).
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from kthreadd_emu.progress import progress_bar

ROOT = Path(__file__).resolve().parents[1]
# The list's own test would kill every mutant (its text is gone from the copy).
PYTEST = [
    sys.executable,
    *("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"),
    "--ignore=tests/test_mutants_list.py",
]
PACKAGES = ("asm", "emu", "kernel_model", "debugger", "gdbstub", "kthreadd_emu")
SKIP = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", "build", "*.egg-info"
)
MAX_JOBS = 2  # the machine has 2 cores, shared
# A mutant whose suite runs this many times longer than the unmutated one hangs it: killed.
TIMEOUT_FACTOR, MIN_TIMEOUT = 4, 60


@dataclass(frozen=True)
class Mutant:
    """One small bug.  In assembly, ``old`` is text found once in ``file``.  In
    Python, ``old`` is a piece of code found by its syntax tree, once, inside
    ``function`` (so a reformatted file still has it): an expression, a
    statement (``new`` "" deletes it), or a compound statement's header
    (``while cond:``, whose body stays)."""

    file: str
    old: str
    new: str
    why: str
    function: str = ""


ENTRY = "asm/entry_32.S"
PROCESS = "kernel_model/process_32.py"
FORK = "kernel_model/fork.py"
KTHREAD = "kernel_model/kthread.py"
COMPLETION = "kernel_model/completion.py"
SCHED = "kernel_model/sched.py"
EXIT = "kernel_model/exit.py"
RCU = "kernel_model/rcupdate.py"
BOOT = "kernel_model/main.py"
SMPBOOT = "kernel_model/smpboot.py"
IDLE = "kernel_model/init_task.py"

MUTANTS = [
    # -- switch_to / __switch_to ------------------------------------------------
    Mutant(
        ENTRY,
        "switch_to:\n\tCFI_STARTPROC\n\tpushfl\n\tCFI_ADJUST_CFA_OFFSET 4\n\tpushl %ebp\n",
        "switch_to:\n\tCFI_STARTPROC\n\tpushl %ebp\n\tCFI_ADJUST_CFA_OFFSET 4\n\tpushfl\n",
        "switch_to saves ebp below the flags; swapped, a task resumes with its ebp as EFLAGS",
    ),
    Mutant(
        ENTRY,
        "1:\tpopl %ebp\n\tCFI_ADJUST_CFA_OFFSET -4\n\tCFI_RESTORE ebp\n\tpopfl\n",
        "1:\tpopfl\n\tCFI_ADJUST_CFA_OFFSET -4\n\tCFI_RESTORE ebp\n\tpopl %ebp\n",
        "the resumed task pops its words in the wrong order",
    ),
    Mutant(
        ENTRY,
        "\tpopfl\n\tCFI_ADJUST_CFA_OFFSET -4\n\tret\n",
        "\taddl $4, %esp\n\tCFI_ADJUST_CFA_OFFSET -4\n\tret\n",
        "a task resumes with the flags of whoever ran before it, not its own",
    ),
    Mutant(
        ENTRY,
        "\tmovl $1f, TASK_thread_ip(%eax)\n",
        "",
        "prev's resume address is not saved",
    ),
    Mutant(
        ENTRY,
        "\tmovl %ebx, %fs:per_cpu__stack_canary+STACK_CANARY_OFFSET\n",
        "",
        "__switch_canary: the CPU keeps the previous task's stack canary in %gs:20",
    ),
    Mutant(
        ENTRY,
        "\tmovl %ecx, %fs:per_cpu__init_tss+TSS_sp0\n",
        "",
        "load_sp0: the TSS keeps the previous task's sp0",
    ),
    Mutant(
        ENTRY,
        "\tmovl TASK_thread_sp0(%edx), %ecx\n",
        "\tmovl TASK_thread_sp0(%eax), %ecx\n",
        "load_sp0 loads prev's sp0 instead of next's",
    ),
    Mutant(
        ENTRY,
        "\tmovl %edx, %fs:per_cpu__current_task\n",
        "",
        "current_task is never switched",
    ),
    # -- ret_from_fork -------------------------------------------------------------
    Mutant(
        ENTRY,
        "\tpushl $0x0202\n\tCFI_ADJUST_CFA_OFFSET 4\n\tpopfl\n\tCFI_ADJUST_CFA_OFFSET -4\n",
        "",
        "ret_from_fork does not reset the kernel eflags (IF set, arithmetic flags clear)",
    ),
    Mutant(
        ENTRY,
        "\tpushl $0x0202\n",
        "\tpushl $0x0002\n",
        "ret_from_fork resets eflags with interrupts off",
    ),
    Mutant(
        ENTRY,
        "\tpushl %eax\n\tCFI_ADJUST_CFA_OFFSET 4\n\tcall schedule_tail\n",
        "\tpushl %eax\n\tCFI_ADJUST_CFA_OFFSET 4\n",
        "schedule_tail (finish_task_switch of prev) is not called",
    ),
    Mutant(
        ENTRY,
        "\tmovl $-THREAD_SIZE, %ebp\n",
        "\tmovl $-4096, %ebp\n",
        "GET_THREAD_INFO with the wrong stack size: %ebp is not the thread_info",
    ),
    # -- syscall_exit / restore_all --------------------------------------------------
    Mutant(
        ENTRY,
        "syscall_exit:\n\tRING0_PTREGS_FRAME\n\tcli\n",
        "syscall_exit:\n\tRING0_PTREGS_FRAME\n",
        "the work flags are tested and the frame restored with interrupts on",
    ),
    Mutant(
        ENTRY,
        "\tjne syscall_exit_work\n",
        "\tjmp restore_all\n",
        "pending work (a reschedule) is ignored on the way out",
    ),
    Mutant(
        ENTRY,
        "\tje ldt_ss\n",
        "",
        "a user frame with an LDT stack segment skips the espfix path",
    ),
    Mutant(
        ENTRY,
        "\tmovb PT_OLDSS(%esp), %ah\n",
        "\tmovb PT_DS(%esp), %ah\n",
        "the LDT check reads the wrong segment",
    ),
    Mutant(
        ENTRY,
        "(SEGMENT_TI_MASK << 8) | SEGMENT_RPL_MASK), %eax",
        "(SEGMENT_TI_MASK << 8)), %eax",
        "the LDT check ignores the RPL of cs (kernel or user frame)",
    ),
    Mutant(
        ENTRY,
        "\tpopl %ebx\n\tCFI_ADJUST_CFA_OFFSET -4\n\tCFI_RESTORE ebx\n\tpopl %ecx\n",
        "\tpopl %ecx\n\tCFI_ADJUST_CFA_OFFSET -4\n\tCFI_RESTORE ebx\n\tpopl %ebx\n",
        "RESTORE_REGS pops bx and cx in the wrong order",
    ),
    Mutant(
        ENTRY,
        "\tpopl %gs\n\tCFI_ADJUST_CFA_OFFSET -4\n\taddl $4, %esp\n",
        "\tpopl %gs\n\tCFI_ADJUST_CFA_OFFSET -4\n\taddl $8, %esp\n",
        "RESTORE_REGS 4 skips orig_ax and ip",
    ),
    Mutant(
        ENTRY,
        "\tjz restore_all\n\tcall schedule\n",
        "\tjz restore_all\n",
        "work_pending never reschedules",
    ),
    # -- kernel_thread_helper -------------------------------------------------------
    Mutant(
        ENTRY,
        "\tCFI_UNDEFINED eip\n\tpushl $0\n",
        "\tCFI_UNDEFINED eip\n\tpushl $1\n",
        "the fake return address no longer ends the unwinder's walk",
    ),
    Mutant(
        ENTRY,
        "\tpush %eax\n\tCFI_ADJUST_CFA_OFFSET 4\n\tcall do_exit\n",
        "\tpush %edx\n\tCFI_ADJUST_CFA_OFFSET 4\n\tcall do_exit\n",
        "the thread exits with its argument, not fn's result",
    ),
    # -- kernel_thread / copy_thread ---------------------------------------------
    Mutant(
        PROCESS,
        "flags | CLONE_VM | CLONE_UNTRACED",
        "flags | CLONE_VM",
        "kernel threads could be ptraced (CLONE_UNTRACED missing)",
        "kernel_thread",
    ),
    Mutant(
        PROCESS,
        "flags | CLONE_VM | CLONE_UNTRACED",
        "flags | CLONE_UNTRACED",
        "kernel threads no longer share init's mm (CLONE_VM missing)",
        "kernel_thread",
    ),
    Mutant(
        PROCESS,
        "regs.orig_ax = -1",
        "",
        "orig_ax 0 makes the frame look like system call 0",
        "kernel_thread",
    ),
    Mutant(
        PROCESS,
        "regs.fs = __KERNEL_PERCPU",
        "regs.fs = __USER_DS",
        "the thread runs without the per-CPU segment in fs",
        "kernel_thread",
    ),
    Mutant(
        PROCESS,
        "X86_EFLAGS_IF | X86_EFLAGS_SF | X86_EFLAGS_PF | 0x2",
        "X86_EFLAGS_SF | X86_EFLAGS_PF | 0x2",
        "the thread function runs with interrupts off",
        "kernel_thread",
    ),
    Mutant(
        PROCESS,
        "childregs.ax = 0",
        "",
        "the child does not see 0 as fork's return value",
        "copy_thread",
    ),
    Mutant(
        PROCESS,
        "childregs.sp = sp",
        "",
        "the child's frame keeps the parent's stack pointer, not the one asked for",
        "copy_thread",
    ),
    Mutant(
        PROCESS,
        "p.thread.sp0 = childregs.addr + pt_regs.SIZE",
        "p.thread.sp0 = childregs.addr",
        "sp0 (the TSS stack top) is below the child's pt_regs",
        "copy_thread",
    ),
    Mutant(
        PROCESS,
        "p.stack + THREAD_SIZE - 8 - pt_regs.SIZE",
        "p.stack + THREAD_SIZE - pt_regs.SIZE",
        "task_pt_regs without the 8 reserved bytes",
        "task_pt_regs",
    ),
    # -- do_fork / copy_process ----------------------------------------------------
    Mutant(
        FORK,
        "tsk.stack_canary = kern.rng.getrandbits(32)",
        "",
        "the child inherits its parent's stack canary",
        "dup_task_struct",
    ),
    Mutant(
        FORK,
        "ti.task = tsk.addr",
        "",
        "the child's thread_info points at its parent",
        "dup_task_struct",
    ),
    Mutant(
        FORK,
        "(p.flags & ~PF_SUPERPRIV) | PF_FORKNOEXEC | PF_STARTING",
        "(p.flags & ~PF_SUPERPRIV) | PF_STARTING",
        "copy_flags: the child is not marked PF_FORKNOEXEC",
        "copy_flags",
    ),
    Mutant(
        FORK,
        "p.flags &= ~PF_STARTING",
        "",
        "do_fork leaves PF_STARTING set on the child",
        "do_fork",
    ),
    Mutant(
        FORK,
        "p.exit_signal = clone_flags & CSIGNAL",
        "p.exit_signal = 0",
        "the child's exit signal is not the one clone asked for",
        "copy_process",
    ),
    Mutant(
        FORK,
        "kern.data.nr_threads >= kern.max_threads",
        "kern.data.nr_threads > kern.max_threads",
        "one thread more than max_threads",
        "copy_process",
    ),
    Mutant(
        FORK,
        "clone_flags & CLONE_PARENT",
        "not clone_flags & CLONE_PARENT",
        "CLONE_PARENT gives the child the wrong parent",
        "copy_process",
    ),
    # -- kthread() / kthreadd / kthread_create ------------------------------------------
    Mutant(
        KTHREAD,
        "create.result = current(kern).addr",
        "create.result = 0",
        "kthread() does not report itself to its creator",
        "kthread",
    ),
    Mutant(
        KTHREAD,
        "ret = -EINTR",
        "ret = 0",
        "a thread stopped before it ran does not exit with -EINTR",
        "kthread",
    ),
    Mutant(
        KTHREAD,
        "not self.should_stop",
        "True",
        "threadfn runs although kthread_stop came first",
        "kthread",
    ),
    Mutant(
        KTHREAD,
        "__set_current_state(kern, TASK_UNINTERRUPTIBLE)",
        "__set_current_state(kern, TASK_INTERRUPTIBLE)",
        "the new thread parks interruptibly (ps shows S, not D)",
        "kthread",
    ),
    Mutant(
        KTHREAD,
        "CLONE_FS | CLONE_FILES | SIGCHLD",
        "CLONE_FS | CLONE_FILES",
        "create_kthread forks without SIGCHLD as exit signal",
        "create_kthread",
    ),
    Mutant(
        KTHREAD,
        "create.result = ERR_PTR(pid)",
        "create.result = 0",
        "a failed fork is not reported to kthread_create's caller",
        "create_kthread",
    ),
    Mutant(
        KTHREAD,
        "sched_setscheduler_nocheck(kern, task, SCHED_NORMAL, 0)",
        "",
        "the new thread inherits kthreadd's policy",
        "kthread_create",
    ),
    Mutant(
        KTHREAD,
        "yield from set_cpus_allowed_ptr(kern, task, cpu_all_mask(kern))",
        "",
        "the new thread inherits kthreadd's CPU mask",
        "kthread_create",
    ),
    # -- sleeping: a forgotten ``yield from`` (tests/test_sleeping.py) -------------
    Mutant(
        KTHREAD,
        "yield from schedule(kern)",
        "schedule(kern)",
        "a forgotten yield from: the new thread never sleeps before running threadfn",
        "kthread",
    ),
    Mutant(
        COMPLETION,
        "yield from schedule(kern)",
        "schedule(kern)",
        "a forgotten yield from: wait_for_completion spins without sleeping",
        "wait_for_completion",
    ),
    Mutant(
        KTHREAD,
        "kern.data.kthread_create_list.next - _LIST",
        "kern.data.kthread_create_list.prev - _LIST",
        "kthreadd serves requests last-in first-out",
        "kthreadd",
    ),
    Mutant(
        KTHREAD,
        "ignore_signals(kern, tsk)",
        "",
        "kthreadd's children are not reaped when they exit",
        "kthreadd",
    ),
    Mutant(
        KTHREAD,
        "PF_NOFREEZE | PF_FREEZER_NOSIG",
        "PF_NOFREEZE",
        "kthreadd (and every kthread) lacks PF_FREEZER_NOSIG",
        "kthreadd",
    ),
    Mutant(
        KTHREAD,
        "TASK_COMM_LEN - 1",
        "TASK_COMM_LEN",
        "set_task_comm keeps 16 bytes: comm has no NUL",
        "set_task_comm",
    ),
    Mutant(
        KTHREAD,
        "TASK_COMM_LEN - 1",
        "TASK_COMM_LEN",
        "kthread_create's name keeps 16 bytes: comm has no NUL",
        "kthread_create",
    ),
    Mutant(
        KTHREAD,
        "kthread.should_stop = 1",
        "",
        "kthread_stop does not tell the thread to stop",
        "kthread_stop",
    ),
    # -- completion ------------------------------------------------------------------
    Mutant(
        COMPLETION,
        "x.done += 1",
        "x.done = 1",
        "two complete() count as one",
        "complete",
    ),
    Mutant(
        COMPLETION,
        "waiters[0]",
        "waiters[-1]",
        "complete() wakes the last waiter, not the first",
        "complete",
    ),
    Mutant(
        COMPLETION,
        "x.done -= 1",
        "",
        "one complete() lets every later waiter through",
        "wait_for_completion",
    ),
    Mutant(
        COMPLETION,
        "while not x.done:",
        "if not x.done:",
        "a waiter woken without complete() goes on",
        "wait_for_completion",
    ),
    Mutant(
        COMPLETION,
        "set_current_state(kern, TASK_UNINTERRUPTIBLE)",
        "set_current_state(kern, 1)",
        "wait_for_completion sleeps interruptibly (1 is TASK_INTERRUPTIBLE)",
        "wait_for_completion",
    ),
    Mutant(
        COMPLETION,
        "list_del_init(kern.mem, wait.task_list.addr)",
        "",
        "the waiter's wait_queue entry stays queued after it left",
        "wait_for_completion",
    ),
    # -- the scheduler: binding, moving, placing, waking ---------------------------
    Mutant(
        SCHED,
        "p.flags |= PF_THREAD_BOUND",
        "",
        "kthread_bind does not mark the thread PF_THREAD_BOUND",
        "kthread_bind",
    ),
    Mutant(
        SCHED,
        "set_task_cpu(kern, p, cpu)",
        "",
        "vanilla kthread_bind leaves the thread on the CPU it was forked on",
        "kthread_bind",
    ),
    Mutant(
        SCHED,
        "p.flags & PF_THREAD_BOUND and p.addr != current(kern).addr and p.cpus_allowed != mask",
        "False",
        "set_cpus_allowed_ptr moves a thread bound to its CPU",
        "set_cpus_allowed_ptr",
    ),
    Mutant(
        SCHED,
        "set_task_cpu(kern, p, dest_cpu)",
        "",
        "vanilla migrate_task does not move a sleeping task",
        "migrate_task",
    ),
    Mutant(
        SCHED,
        "new_cpu = prev_cpu",
        "",
        "a woken task goes to the waker's CPU, domains or not",
        "select_task_rq_fair",
    ),
    Mutant(
        SCHED,
        "not this_load or 100 * (this_load + task_weight(p)) <= _imbalance(sd) * load",
        "not this_load",
        "wake_affine never finds the loads balanced",
        "wake_affine",
    ),
    Mutant(
        SCHED,
        "q.sd = sched_domain(span=online)",
        "",
        "sched_init_smp builds no domains: forks are never balanced",
        "sched_init_smp",
    ),
    Mutant(
        SCHED,
        "success = 1",
        "",
        "try_to_wake_up says it woke nothing",
        "try_to_wake_up",
    ),
    # -- exit and RCU ------------------------------------------------------------------
    Mutant(
        EXIT,
        "call_rcu(kern, delayed_put_task_struct, p.addr)",
        "delayed_put_task_struct(kern, p.addr)",
        "release_task frees the task at once, without a grace period",
        "release_task",
    ),
    Mutant(
        EXIT,
        "tsk.exit_code = code",
        "",
        "do_exit does not record the exit code",
        "do_exit",
    ),
    Mutant(
        EXIT,
        "pid if find_task_by_pid(kern, pid) else 0",
        "pid",
        "sched_process_wait names a pid nobody has",
        "do_wait",
    ),
    Mutant(
        RCU,
        "busy = ~kern.runtime.idle_mask & ((1 << len(kern.rq)) - 1)",
        "busy = 0",
        "a grace period does not wait for the other busy CPUs",
        "call_rcu",
    ),
    # -- boot ----------------------------------------------------------------------------
    Mutant(
        BOOT,
        "sched_init_smp(kern)",
        "",
        "kernel_init never builds the scheduling domains",
        "kernel_init",
    ),
    Mutant(
        BOOT,
        "yield from lockup_detector_init(kern)",
        "",
        "RHEL 6's boot CPU gets no watchdog",
        "kernel_init",
    ),
    Mutant(
        SMPBOOT,
        "kern.cpu_notifiers.online |= 1 << kern.this_cpu",
        "",
        "a secondary CPU never comes online (smp_init waits for it)",
        "start_secondary",
    ),
    Mutant(
        IDLE,
        "copy_process(kern, CLONE_VM, 0, regs, 0, None, 0)",
        "copy_process(kern, CLONE_VM, 0, regs, 0, None, None)",
        "an idle task gets a pid of its own (not &init_struct_pid)",
        "fork_idle",
    ),
    Mutant(
        IDLE,
        "idle.prio = idle.normal_prio = MAX_PRIO",
        "",
        "vanilla init_idle keeps the idle task at prio 120",
        "init_idle",
    ),
]


def copy_tree(dest: Path) -> Path:
    """The tree's sources (no .venv, .git or caches) under ``dest``."""
    shutil.copytree(ROOT, dest / "tree", ignore=SKIP)
    return dest / "tree"


class NotFound(Exception):
    """The mutant's site is not exactly once where it says (the message says why)."""


def _offset(lines: list[str], line: int, col: int) -> int:
    """The text offset of an AST (1-based line, 0-based UTF-8 column) position."""
    before = sum(len(text) for text in lines[: line - 1])
    return before + len(lines[line - 1].encode()[:col].decode())


def _pattern(old: str, new: str) -> tuple[str, ast.AST]:
    """What ``old`` is: ("expr" | "stmt" | "header", its syntax tree); code to
    delete (``new`` "") is a statement."""
    if old.rstrip().endswith(":"):
        return "header", ast.parse(old.strip() + "\n    pass").body[0]
    if new:
        try:
            return "expr", ast.parse(old.strip(), mode="eval").body
        except SyntaxError:
            pass
    (stmt,) = ast.parse(old.strip()).body
    return "stmt", stmt


def _same_header(node, pattern) -> bool:
    fields = [f for f in node._fields if f not in ("body", "orelse", "handlers", "finalbody")]
    return type(node) is type(pattern) and all(
        ast.dump(getattr(node, f)) == ast.dump(getattr(pattern, f)) for f in fields
    )


def locate(text: str, mutant: Mutant) -> tuple[int, int, str]:
    """(start, end, replacement) of ``mutant`` in ``text``; NotFound if it is not
    exactly once where it says."""
    if not mutant.file.endswith(".py"):
        if text.count(mutant.old) != 1:
            raise NotFound(f"{mutant.old!r} is not exactly once in {mutant.file}")
        start = text.index(mutant.old)
        return start, start + len(mutant.old), mutant.new
    defs = (ast.FunctionDef, ast.AsyncFunctionDef)
    funcs = [
        n for n in ast.walk(ast.parse(text)) if isinstance(n, defs) and n.name == mutant.function
    ]
    if len(funcs) != 1:
        raise NotFound(f"{len(funcs)} functions named {mutant.function} in {mutant.file}")
    kind, pattern = _pattern(mutant.old, mutant.new)
    want = ast.dump(pattern)
    if kind == "header":
        found = [n for n in ast.walk(funcs[0]) if _same_header(n, pattern)]
    else:
        base = ast.expr if kind == "expr" else ast.stmt
        found = [n for n in ast.walk(funcs[0]) if isinstance(n, base) and ast.dump(n) == want]
    if len(found) != 1:
        raise NotFound(f"{mutant.old!r} is {len(found)} times in {mutant.function}()")
    node, lines = found[0], text.splitlines(keepends=True)
    start = _offset(lines, node.lineno, node.col_offset)
    if kind == "header":  # up to the header's colon: the body stays
        end = text.index(":", _offset(lines, node.test.end_lineno, node.test.end_col_offset)) + 1
    else:
        end = _offset(lines, node.end_lineno, node.end_col_offset)
    return start, end, mutant.new or "pass"


def mutated(text: str, mutant: Mutant) -> str:
    start, end, new = locate(text, mutant)
    return text[:start] + new + text[end:]


def apply(tree: Path, mutant: Mutant) -> bool:
    """Apply ``mutant`` to the copy; False if its site is not exactly once there."""
    path = tree / mutant.file
    try:
        path.write_text(mutated(path.read_text() if path.is_file() else "", mutant))
    except NotFound:
        return False
    return True


def run_env(tree: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}


RUNNING: set[subprocess.Popen] = set()  # killed if the tool is interrupted


def run_suite(tree: Path, timeout: float | None) -> tuple[bool, str]:
    """(passed, the first failure's line) of the suite run in ``tree``."""
    with subprocess.Popen(
        PYTEST,
        cwd=tree,
        env=run_env(tree),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        RUNNING.add(proc)
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return False, f"timed out after {timeout:.0f} s"
        finally:
            RUNNING.discard(proc)
    if proc.returncode == 0:
        return True, ""
    lines = output.splitlines()
    failed = [ln for ln in lines if ln.startswith(("FAILED ", "ERROR "))]
    return False, (failed or lines[-1:] or [f"exit status {proc.returncode}"])[0]


def imported_from(tree: Path) -> list[str]:
    """The project's packages that a run in ``tree`` would import from elsewhere."""
    names = ", ".join(PACKAGES)
    code = f"import {names}\nfor m in ({names}): print(m.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree,
        env=run_env(tree),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [f for f in out if not Path(f).resolve().is_relative_to(tree.resolve())]


def judge(mutant: Mutant, timeout: float) -> tuple[str, str]:
    """(verdict, detail) of one mutant, tested in a copy of its own."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        tree = copy_tree(Path(tmp))
        if not apply(tree, mutant):
            return "does-not-apply", f"{mutant.old!r} is not exactly once where it should be"
        passed, detail = run_suite(tree, timeout)
    return ("survived", "every test passed") if passed else ("killed", detail)


def check_baseline() -> tuple[str | None, float]:
    """(why mutants cannot be judged, or None; how long the unmutated suite took)."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        tree = copy_tree(Path(tmp))
        stray = imported_from(tree)
        if stray:
            return f"the copy imports code from outside it: {', '.join(stray)}", 0.0
        passed, detail = run_suite(tree, None)
    problem = None if passed else f"the unmutated tree fails: {detail}"
    return problem, time.monotonic() - start


def describe(m: Mutant) -> str:
    return f"{m.file}: {m.why}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=MAX_JOBS, help=f"at most {MAX_JOBS}")
    ap.add_argument("--only", default="", help="only mutants whose file or reason contains TEXT")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument(
        "--deselect", action="append", default=[], metavar="NODEID", help="passed to pytest"
    )
    ap.add_argument("tests", nargs="*", help="test paths to run (default: the whole suite)")
    args = ap.parse_args(argv)
    if not 1 <= args.jobs <= MAX_JOBS:
        ap.error(f"--jobs must be 1..{MAX_JOBS}")
    chosen = [m for m in MUTANTS if args.only in m.file or args.only in m.why]
    if args.list:
        for i, m in enumerate(chosen, 1):
            print(f"{i:3} {describe(m)}")
        return 0
    PYTEST.extend(f"--deselect={node}" for node in args.deselect)
    PYTEST.extend(args.tests)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    start = time.monotonic()
    problem, seconds = check_baseline()
    if problem:
        print(f"mutants: {problem}", file=sys.stderr)
        return 2
    timeout = max(MIN_TIMEOUT, TIMEOUT_FACTOR * seconds)
    print(
        f"baseline passes in {seconds:.0f} s; {len(chosen)} mutants, {args.jobs} at a time, "
        f"each killed by a timeout of {timeout:.0f} s",
        flush=True,
    )
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        verdicts = judge_all(pool, chosen, start, timeout)
    finally:
        # Interrupted: no new runs, and the running suites die with us.
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list(RUNNING):
            proc.kill()
    return report(verdicts, start)


def judge_all(pool, chosen: list[Mutant], start: float, timeout: float) -> dict:
    """Judge every mutant, printing each verdict as it comes; verdict -> mutants."""
    verdicts: dict[str, list[Mutant]] = {}
    futures = {pool.submit(judge, m, timeout): m for m in chosen}
    # A bar on a terminal (stderr), nothing when piped; the verdicts go to stdout.
    with progress_bar("mutants", len(chosen)) as bar:
        for n, future in enumerate(as_completed(futures), 1):
            m, (verdict, detail) = futures[future], future.result()
            verdicts.setdefault(verdict, []).append(m)
            elapsed = time.monotonic() - start
            print(f"[{n}/{len(chosen)} {elapsed:5.0f}s] {verdict:14} {describe(m)}", flush=True)
            print(f"    {detail}", flush=True)
            bar.advance()
    return verdicts


def report(verdicts: dict[str, list[Mutant]], start: float) -> int:
    bad = verdicts.get("survived", []) + verdicts.get("does-not-apply", [])
    counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(verdicts.items()))
    print(f"{counts} in {time.monotonic() - start:.0f} s")
    for m in bad:
        print(f"NOT KILLED: {describe(m)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
