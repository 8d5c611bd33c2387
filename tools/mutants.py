"""Mutation testing of the kernel's code: would the test suite notice a bug?

Each mutant is one small change to the kernel (a file, an exact piece of text
that occurs once in it, its replacement, and why the change is a bug).  The
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
    file: str
    old: str
    new: str
    why: str


ENTRY = "asm/entry_32.S"
PROCESS = "kernel_model/process_32.py"
FORK = "kernel_model/fork.py"
KTHREAD = "kernel_model/kthread.py"
COMPLETION = "kernel_model/completion.py"

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
        "flags | CLONE_VM | CLONE_UNTRACED, 0, regs",
        "flags | CLONE_VM, 0, regs",
        "kernel threads could be ptraced (CLONE_UNTRACED missing)",
    ),
    Mutant(
        PROCESS,
        "flags | CLONE_VM | CLONE_UNTRACED, 0, regs",
        "flags | CLONE_UNTRACED, 0, regs",
        "kernel threads no longer share init's mm (CLONE_VM missing)",
    ),
    Mutant(
        PROCESS,
        "        regs.orig_ax = -1\n",
        "",
        "orig_ax 0 makes the frame look like system call 0",
    ),
    Mutant(
        PROCESS,
        "        regs.fs = __KERNEL_PERCPU\n",
        "        regs.fs = __USER_DS\n",
        "the thread runs without the per-CPU segment in fs",
    ),
    Mutant(
        PROCESS,
        "X86_EFLAGS_IF | X86_EFLAGS_SF | X86_EFLAGS_PF | 0x2",
        "X86_EFLAGS_SF | X86_EFLAGS_PF | 0x2",
        "the thread function runs with interrupts off",
    ),
    Mutant(
        PROCESS,
        "    childregs.ax = 0\n",
        "",
        "the child does not see 0 as fork's return value",
    ),
    Mutant(
        PROCESS,
        "    childregs.sp = sp\n",
        "",
        "the child's frame keeps the parent's stack pointer, not the one asked for",
    ),
    Mutant(
        PROCESS,
        "    p.thread.sp0 = childregs.addr + pt_regs.SIZE\n",
        "    p.thread.sp0 = childregs.addr\n",
        "sp0 (the TSS stack top) is below the child's pt_regs",
    ),
    Mutant(
        PROCESS,
        "THREAD_SIZE - 8 - pt_regs.SIZE",
        "THREAD_SIZE - pt_regs.SIZE",
        "task_pt_regs without the 8 reserved bytes",
    ),
    # -- do_fork / copy_process ----------------------------------------------------
    Mutant(
        FORK,
        "    tsk.stack_canary = kern.rng.getrandbits(32)\n",
        "",
        "the child inherits its parent's stack canary",
    ),
    Mutant(
        FORK,
        "    ti.task = tsk.addr\n",
        "",
        "the child's thread_info points at its parent",
    ),
    Mutant(
        FORK,
        "| PF_FORKNOEXEC | PF_STARTING",
        "| PF_STARTING",
        "copy_flags: the child is not marked PF_FORKNOEXEC",
    ),
    Mutant(
        FORK,
        "    p.flags &= ~PF_STARTING\n",
        "",
        "do_fork leaves PF_STARTING set on the child",
    ),
    Mutant(
        FORK,
        "    p.exit_signal = clone_flags & CSIGNAL\n",
        "    p.exit_signal = 0\n",
        "the child's exit signal is not the one clone asked for",
    ),
    Mutant(
        FORK,
        "kern.data.nr_threads >= kern.max_threads",
        "kern.data.nr_threads > kern.max_threads",
        "one thread more than max_threads",
    ),
    Mutant(
        FORK,
        "        if clone_flags & CLONE_PARENT\n",
        "        if not clone_flags & CLONE_PARENT\n",
        "CLONE_PARENT gives the child the wrong parent",
    ),
    # -- kthread() / kthreadd / kthread_create ------------------------------------------
    Mutant(
        KTHREAD,
        "        create.result = current(kern).addr\n",
        "        create.result = 0\n",
        "kthread() does not report itself to its creator",
    ),
    Mutant(
        KTHREAD,
        "        ret = -EINTR\n",
        "        ret = 0\n",
        "a thread stopped before it ran does not exit with -EINTR",
    ),
    Mutant(
        KTHREAD,
        "        if not self.should_stop:\n",
        "        if True:\n",
        "threadfn runs although kthread_stop came first",
    ),
    Mutant(
        KTHREAD,
        "        __set_current_state(kern, TASK_UNINTERRUPTIBLE)\n        create.result",
        "        __set_current_state(kern, TASK_INTERRUPTIBLE)\n        create.result",
        "the new thread parks interruptibly (ps shows S, not D)",
    ),
    Mutant(
        KTHREAD,
        "CLONE_FS | CLONE_FILES | SIGCHLD\n    )",
        "CLONE_FS | CLONE_FILES\n    )",
        "create_kthread forks without SIGCHLD as exit signal",
    ),
    Mutant(
        KTHREAD,
        "        create.result = ERR_PTR(pid)\n",
        "        create.result = 0\n",
        "a failed fork is not reported to kthread_create's caller",
    ),
    Mutant(
        KTHREAD,
        "        sched_setscheduler_nocheck(kern, task, SCHED_NORMAL, 0)\n",
        "",
        "the new thread inherits kthreadd's policy",
    ),
    Mutant(
        KTHREAD,
        "        yield from set_cpus_allowed_ptr(kern, task, cpu_all_mask(kern))\n",
        "",
        "the new thread inherits kthreadd's CPU mask",
    ),
    Mutant(
        KTHREAD,
        "kern.data.kthread_create_list.next - _LIST",
        "kern.data.kthread_create_list.prev - _LIST",
        "kthreadd serves requests last-in first-out",
    ),
    Mutant(
        KTHREAD,
        "    ignore_signals(kern, tsk)\n",
        "",
        "kthreadd's children are not reaped when they exit",
    ),
    Mutant(
        KTHREAD,
        "        kthread.should_stop = 1\n",
        "",
        "kthread_stop does not tell the thread to stop",
    ),
    # -- completion ------------------------------------------------------------------
    Mutant(
        COMPLETION,
        "    x.done += 1\n",
        "    x.done = 1\n",
        "two complete() count as one",
    ),
    Mutant(
        COMPLETION,
        "waiters[0]).private",
        "waiters[-1]).private",
        "complete() wakes the last waiter, not the first",
    ),
    Mutant(
        COMPLETION,
        "    x.done -= 1\n",
        "",
        "one complete() lets every later waiter through",
    ),
    Mutant(
        COMPLETION,
        "            while not x.done:\n",
        "            if not x.done:\n",
        "a waiter woken without complete() goes on",
    ),
    Mutant(
        COMPLETION,
        "                set_current_state(kern, TASK_UNINTERRUPTIBLE)\n",
        "                set_current_state(kern, 1)\n",
        "wait_for_completion sleeps interruptibly (1 is TASK_INTERRUPTIBLE)",
    ),
    Mutant(
        COMPLETION,
        "            list_del_init(kern.mem, wait.task_list.addr)\n",
        "",
        "the waiter's wait_queue entry stays queued after it left",
    ),
]


def copy_tree(dest: Path) -> Path:
    """The tree's sources (no .venv, .git or caches) under ``dest``."""
    shutil.copytree(ROOT, dest / "tree", ignore=SKIP)
    return dest / "tree"


def apply(tree: Path, mutant: Mutant) -> bool:
    """Apply ``mutant`` to the copy; False if its text is not exactly once in the file."""
    path = tree / mutant.file
    text = path.read_text() if path.is_file() else ""
    if text.count(mutant.old) != 1:
        return False
    path.write_text(text.replace(mutant.old, mutant.new))
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
            return "does-not-apply", f"{mutant.old!r} is not exactly once in {mutant.file}"
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
