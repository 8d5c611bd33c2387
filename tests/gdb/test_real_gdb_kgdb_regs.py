"""A sleeping task's registers through the gdb stub, as KGDB gives them
(sleeping_thread_to_gdb_regs): ebp is the word at thread.sp, so for a task
that has not run yet it is pt_regs.bx, its thread function."""

import re

from gdbrun import Server, needs_gdb, register

pytestmark = needs_gdb

# `thread N` for the gdb thread of pid 2 (its target id says so), in the same session.
SELECT_PID_2 = (
    "python gdb.execute('thread %d' % next(t.num for t in gdb.selected_inferior().threads()"
    " if ' pid 2 ' in t.details))"
)


def test_kthreadd_before_it_ran_shows_ebp_kthreadd(tmp_path):
    """Stopped where pid 1 first runs: kthreadd (pid 2) is forked, not run."""
    server = Server(tmp_path / "kernel.elf", "--cpus", "2")
    try:
        out = server.gdb("break ret_from_fork", "continue", "info threads", SELECT_PID_2,
                         "info registers", "info symbol $ebp", "x/wx $esp")  # fmt: skip
    finally:
        server.stop()
    assert "(swapper pid 2 R cpu0)" in out  # not run yet: it is still a copy of init_task
    # CPU 1 is not up yet: pid 1 forks its idle task later, in smp_init.
    assert "cpu1)" not in out
    assert register(out, "eflags") == 0
    assert re.search(r"^kthreadd in section \.\w+$", out, re.M)
    assert int(re.search(r":\s+(0x[0-9a-f]+)$", out, re.M).group(1), 16) == register(out, "ebp")
