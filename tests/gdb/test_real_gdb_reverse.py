"""Going back with the real gdb in -batch mode (`bc`/`bs`, advertised with
ReverseContinue+/ReverseStep+): reverse-continue to a breakpoint hit 3M
instructions back, reverse-stepi one instruction at a time, and the start of
the history said as gdb says it."""

import re

import pytest
from gdbrun import Server, needs_gdb, register

pytestmark = needs_gdb

LOOP = """\
\t.globl loop
loop:\tmovl $1500000, %ecx
1:\tdecl %ecx
\tjnz 1b
after:\tnop
\tret
"""


@pytest.fixture
def server(tmp_path):
    source = tmp_path / "loop.S"
    source.write_text(LOOP)
    srv = Server(tmp_path / "kernel.elf", "--cpus", "2", "--load", str(source),
                 "--run", "kthread loop budget=5000000")  # fmt: skip
    yield srv
    srv.stop()


def test_reverse_continue_and_reverse_stepi(server):
    out = server.gdb(
        "break after", "continue", "info registers ecx eip",
        "break loop", "reverse-continue", "info registers ecx eip",
        "continue", "reverse-stepi", "info registers ecx eip",
        "reverse-stepi", "info registers ecx eip",
        end="kill",
    )  # fmt: skip
    at_after, back, stepped1, stepped2 = re.split(r"^ecx\s", out, flags=re.M)[1:]
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <after>$", at_after, re.M)
    assert re.search(r"^eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <loop>$", back, re.M)
    assert re.search(r"hit Breakpoint 2, (0x[0-9a-f]+ in )?loop \(\)", out)
    # Forward to `after` again, then back: the jnz that fell through (ecx 0), then
    # the decl before it (ecx 1 before it ran).
    assert re.search(r"<loop\+6>$", stepped1, re.M) and register("ecx " + stepped1, "ecx") == 0
    assert re.search(r"<loop\+5>$", stepped2, re.M) and register("ecx " + stepped2, "ecx") == 1


def test_reverse_stepi_before_anything_ran_is_the_start_of_the_history(server):
    out = server.gdb("reverse-stepi", "info registers eip", end="kill")
    assert "No more reverse-execution history." in out
    assert "Target remote does not support this command" not in out
