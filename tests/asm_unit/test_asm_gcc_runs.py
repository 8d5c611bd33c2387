"""gcc's output runs on the machine: C files of tests/asm_c compiled at test time,
called from a `#@ run bare` assembly test, their results checked.

Switch tables (.rodata), strings (.rodata.str), globals (.data, .bss, .comm) and
recursion all have to be laid out and resolved as GNU ld would for these to pass;
the -fpic builds also need the pc thunk, `_GLOBAL_OFFSET_TABLE_`, `@GOTOFF`
switch tables and `@GOT` loads resolved inside the image (asm/_pic.py).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_asm_gcc_corpus import C_DIR, HAVE_GCC, compile_c

# (C file, wrapper body calling into it, expected return value)
RUNS = (
    ("switch_dense.c", "pushl $2\n\tcall days\n\taddl $4, %esp", 28),
    ("fib.c", "pushl $10\n\tcall fib\n\taddl $4, %esp", 55),
    ("strings_table.c", "pushl $3\n\tcall name_of\n\tpopl %ecx\n\tmovl %eax, %ecx\n"
     "1:\tcmpb $0, (%eax)\n\tje 2f\n\tincl %eax\n\tjmp 1b\n2:\tsubl %ecx, %eax", 5),
    ("globals.c", "pushl $2\n\tcall bump\n\tpushl $3\n\tcall bump\n\taddl $8, %esp", 17),
    ("gcd.c", "pushl $84\n\tpushl $36\n\tcall gcd\n\taddl $8, %esp", 12),
    ("u64_mul.c", "pushl $0\n\tpushl $0x10000\n\tpushl $0\n\tpushl $0x30000\n\tcall mul64\n"
     "\taddl $16, %esp\n\tmovl %edx, %eax", 3),
    ("funcptr.c", "pushl $7\n\tpushl $1\n\tcall apply\n\taddl $8, %esp", 49),
    # "not found", kept by ld as the end of "file not found"
    ("string_merge.c", "pushl $1\n\tcall length_of\n\taddl $4, %esp", 9),
    ("jump_table_data.c", "pushl $2\n\tpushl $0\n\tcall weigh\n\taddl $8, %esp", 27),
    ("pointer_tables.c", "pushl $5\n\tpushl $1\n\tcall apply_op\n\taddl $8, %esp", 16),
)  # fmt: skip


def asm_test_source(name: str, body: str, expected: int, opt: str, pic: str) -> str:
    source = compile_c(C_DIR / name, (opt, pic))
    entry = "call_" + name.replace(".", "_") + (opt + pic).replace("-", "_")
    return (
        f"#@ test {entry}\n#@ run bare {entry}\n#@ expect exit == {expected}\n{source}\n"
        f"\t.text\n\t.globl {entry}\n{entry}:\n\t{body}\n\tret\n"
    )


@pytest.mark.skipif(not HAVE_GCC, reason="gcc not installed: no C to run")
def test_gcc_functions_run_and_return_the_right_value(tmp_path):
    count = 0
    for name, body, expected in RUNS:
        for opt in ("-O0", "-O2", "-Os"):
            for pic in ("-fno-pie", "-fpic"):
                path = tmp_path / f"{name[:-2]}{opt}{pic}.S"
                path.write_text(asm_test_source(name, body, expected, opt, pic))
                count += 1
    done = subprocess.run(
        [sys.executable, "-m", "kthreadd_emu.cli", "asmtest", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{count} passed, 0 failed, 0 errors" in done.stdout
