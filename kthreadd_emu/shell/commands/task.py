"""task (gdb's thread): select a task; ``task apply`` runs a command on several."""

import re

from debugger.engine import DebuggerError
from debugger.ps import snapshot
from debugger.tasks import TaskError, find_task, python_line
from kthreadd_emu.shell.errors import SHELL_ERRORS, CommandError
from kthreadd_emu.shell.registry import command

MAX_APPLY_DEPTH = 3  # thread apply inside the command of a thread apply
_THREAD_RANGE = re.compile(r"(\d{1,9})(?:-(\d{1,9}))?")


@command("task", category="kernel", aliases=("thread",))
def do_task(shell, rest):
    """Select a task by pid (gdb's thread), or show which one is.
    Usage: task [PID]
           task apply all|PID... [-ascending] [-q] [-c] [-s] COMMAND

    Without PID: which task is selected.  A sleeping task's registers are as
    KGDB reconstructs them: eip = thread.ip, esp = thread.sp, ebp the word
    switch_to pushed.

    task apply runs COMMAND once per task (all: newest first; or PIDs and
    PID-PID ranges), each under a "Thread N (...)" header (-q: none), going on
    after an error with -c and silently with -s; the selection is restored
    after."""
    word, _, args = rest.strip().partition(" ")
    if word == "apply":
        thread_apply(shell, args)
        return
    if not rest.strip():
        task = shell.task()
        shell.say(f"[Current task is {task.pid} ({task.comm.decode(errors='replace')})]")
        return
    pid = shell.count(rest) if rest.strip() != "0" else 0
    find_task(shell.kern, pid)  # "Invalid thread ID" with the list of tasks
    shell.select_task(pid)
    task = shell.task()
    shell.say(f"[Switching to task {pid} ({task.comm.decode(errors='replace')})]")
    line = python_line(shell.kern, task)
    regs = shell.regs()
    shell.say(f"#0  {regs['eip']:#010x} in {shell.kern.symbols.describe(regs['eip'])}"
              f"  sp {regs['esp']:#010x}" + (f"  [python] {line}" if line else ""))  # fmt: skip


def thread_apply(shell, text: str) -> None:
    """gdb's ``thread apply all|ID... [-ascending] [-q] [-c] [-s] COMMAND``: the
    command once per task (Id = pid, as ``info threads`` shows them), each
    under a ``Thread N (...)`` header; the selection is restored after."""
    procs = {p.pid: p for p in snapshot(shell.kern)}
    pids, flags, line = apply_targets(text, sorted(procs))
    if not line:
        raise CommandError("Please specify a command following the thread ID list")
    if shell.apply_depth >= MAX_APPLY_DEPTH:
        raise CommandError(f"thread apply: nested more than {MAX_APPLY_DEPTH} deep")
    engine = shell.need_engine()
    selected = (engine.selected_cpu, engine.selected_task)
    shell.apply_depth += 1
    outer, shell.no_resume = shell.no_resume, "Cannot resume the machine in thread apply."
    try:
        for pid in pids:
            apply_one(shell, procs.get(pid), pid, flags, line)
    finally:
        shell.apply_depth -= 1
        shell.no_resume = outer
        engine.selected_cpu, engine.selected_task = selected


def apply_targets(text: str, known: list[int]) -> tuple[list[int], set, str]:
    """(pids, flags, command) of a thread apply's arguments."""
    words = text.split()
    if not words:
        raise CommandError("Please specify a thread ID list")
    i = 1
    if words[0] == "all":
        pids = sorted(known, reverse=True)  # gdb's order: the newest first
        if len(words) > 1 and words[1] == "-ascending":
            pids, i = pids[::-1], 2
    else:
        pids, i = [], 0
        while i < len(words) and (m := _THREAD_RANGE.fullmatch(words[i])):
            first, last = int(m.group(1)), int(m.group(2) or m.group(1))
            if last < first:
                raise CommandError(f"inverted range: {words[i]}")
            pids += [p for p in known if first <= p <= last] or [first]
            i += 1
        if not pids:
            raise CommandError(f"Invalid thread ID: {words[0]}")
    flags = set()
    while i < len(words) and words[i] in ("-q", "-c", "-s"):
        flags.add(words[i])
        i += 1
    return pids, flags, " ".join(words[i:])


def apply_one(shell, proc, pid: int, flags: set, line: str) -> None:
    try:
        find_task(shell.kern, pid)
        shell.engine.select_task(pid)
    except (TaskError, DebuggerError) as err:
        if "-s" in flags:
            return
        raise CommandError(str(err)) from None
    if "-q" not in flags and "-s" not in flags:
        target = f"{proc.comm} pid {pid} {proc.stat[:1]} cpu{proc.cpu}"  # as info threads
        shell.say("", f"Thread {pid} (Thread {pid} ({target})):")
    try:
        shell.run_nested(line)
    except SHELL_ERRORS as err:
        if "-s" in flags:
            return
        if "-c" not in flags:
            raise
        shell.complain(str(err))
