"""``ps auxf`` as procps 3.2.8 prints it, over the emulated kernel's task list.

Columns and widths are procps's ``u`` format; the forest follows
display.c's show_forest/show_tree (roots scanned from the end of the
ppid-sorted list, so kthreadd's tree comes before init's; init's children
are not indented) and output.c's forest_helper prefixes.
"""

import time
from dataclasses import dataclass

from kernel_model.consts import SCHED_FIFO, TASK_REPORT
from kernel_model.sched import task_cpu, task_nice
from kernel_model.task import for_each_process

HEADER = "USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"
HZ = 100
# fs/proc/array.c task_state_array (2.6.32): R, S, D, T (stopped), T (tracing stop), Z, X;
# procps's STAT shows its first letter.
TASK_STATE_CHARS = "RSDTTZX"
_PREFIX = {" ": "    ", "L": " \\_ ", "+": " \\_ ", "|": " |  "}


@dataclass
class Proc:
    pid: int
    ppid: int
    comm: str
    state: str
    stat: str
    cpu: int
    cpus_allowed: int
    flags: int
    policy: str
    nice: int
    start_time: int
    cputime: int

    def as_json(self) -> dict:
        keys = (
            "pid",
            "ppid",
            "comm",
            "state",
            "stat",
            "cpu",
            "cpus_allowed",
            "flags",
            "policy",
            "nice",
        )
        return {k: getattr(self, k) for k in keys}


def task_state_char(p) -> str:
    """get_task_state(): the highest bit of (state & TASK_REPORT) | exit_state names it."""
    return TASK_STATE_CHARS[((p.state & TASK_REPORT) | p.exit_state).bit_length()]


def stat_field(state: str, nice: int) -> str:
    """pr_stat(): the state, then < for negative nice, N for positive (no session, no tty)."""
    return state + ("<" if nice < 0 else "") + ("N" if nice > 0 else "")


def snapshot(kern) -> list[Proc]:
    procs = []
    for p in for_each_process(kern):
        state = task_state_char(p)
        parent = kern.task(p.real_parent)
        procs.append(Proc(
            pid=p.pid, ppid=parent.pid if parent.addr != kern.data.init_task.addr else 0,
            comm=p.comm.decode(errors="replace"), state=state,
            stat=stat_field(state, task_nice(p)), cpu=task_cpu(kern, p),
            cpus_allowed=p.cpus_allowed, flags=p.flags,
            policy="SCHED_FIFO" if p.policy == SCHED_FIFO else "SCHED_NORMAL",
            nice=task_nice(p), start_time=p.start_time, cputime=p.utime + p.stime,
        ))  # fmt: skip
    return procs


def forest(procs: list[Proc]) -> list[tuple[Proc, str]]:
    """(process, prefix) in ``ps f`` order."""
    procs = sorted(procs, key=lambda p: (p.ppid, p.start_time, p.pid))
    pids = {p.pid for p in procs}
    out: list[tuple[Proc, str]] = []

    def show_tree(i: int, prefix: str) -> None:
        out.append((procs[i], prefix))
        kids = [j for j, c in enumerate(procs) if c.ppid == procs[i].pid]
        for n, j in enumerate(kids):
            last = n == len(kids) - 1
            if procs[i].pid == 1:
                show_tree(j, prefix)
            else:
                inherited = prefix[:-1] + (" " if prefix.endswith("L") else "|") if prefix else ""
                show_tree(j, inherited + ("L" if last else "+"))

    for i in range(len(procs) - 1, -1, -1):
        if procs[i].ppid not in pids:
            show_tree(i, "")
    return out


def format_row(p: Proc, prefix: str, boot_time: float) -> str:
    start = time.strftime("%H:%M", time.localtime(boot_time + p.start_time / HZ))
    seconds = p.cputime // HZ
    cputime = f"{seconds // 60:3d}:{seconds % 60:02d}"
    command = "".join(_PREFIX[c] for c in prefix) + f"[{p.comm}]"
    if p.state == "Z":
        command += " <defunct>"
    return (
        f"{'root':<8} {p.pid:>5} {'0.0':>4} {'0.0':>4} {0:>6} {0:>5} {'?':<8} "
        f"{p.stat:<4} {start:>5} {cputime:>6} {command}"
    )


def ps_auxf(kern) -> list[str]:
    return [HEADER] + [
        format_row(p, prefix, kern.boot_time) for p, prefix in forest(snapshot(kern))
    ]
