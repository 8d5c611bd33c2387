"""Differential test: asm.assembler against GNU as --32 on the corpus (tests/asm_unit/corpus.S).

Every group is assembled at a low origin and at a kernel-like origin, so absolute
relocations (`.long label`, `$label`) and relative branches to external `defines`
are checked as well as the plain encodings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asm_gnu_ref import HAVE_GNU_AS, gnu_assemble_many

from asm.assembler import AsmError, assemble

CORPUS = Path(__file__).with_name("corpus.S")
GROUP_SPACING = 0x1000
ORIGINS = (0x0, 0xC0100000)

CORPUS_DEFINES = {
    "do_exit": 0xC0200040,
    "schedule": 0xC0201000,
    "schedule_tail": 0xC0201100,
    "syscall_exit": 0xC0100800,
    "__switch_to": 0xC0202000,
    "sys_table": 0xC0400000,
    "per_cpu__current_task": 0xC0300000,
    "PT_EAX": 0x18,
    "PT_EFLAGS": 0x38,
    "PT_OLDSS": 0x40,
    "TASK_pid": 0x1F4,
    "TASK_thread_sp": 0x2A0,
    "TASK_thread_ip": 0x2A4,
    "TI_flags": 0x8,
    "THREAD_SIZE": 8192,
    "X86_EFLAGS_IF": 0x200,
    "X86_EFLAGS_SF": 0x80,
    "X86_EFLAGS_PF": 0x4,
    "_TIF_WORK_MASK": 0xFFFF,
    "__USER_DS": 0x7B,
    "__KERNEL_PERCPU": 0xD8,
    "__KERNEL_STACK_CANARY": 0xE0,
}


def load_corpus(path: Path = CORPUS) -> list[tuple[int, str]]:
    """(line number, source) of each group: a column-0 line plus the indented lines after it."""
    groups: list[tuple[int, str]] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("##"):
            continue
        if line[0].isspace() and groups:
            first, text = groups[-1]
            groups[-1] = (first, text + "\n" + line)
        else:
            groups.append((number, line))
    return groups


def corpus_statement_count() -> int:
    return sum(len(text.splitlines()) for _, text in load_corpus())


def test_corpus_is_large_enough():
    assert corpus_statement_count() >= 300


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
@pytest.mark.parametrize("base", ORIGINS, ids=hex)
def test_corpus_matches_gnu_as(base):
    groups = load_corpus()
    origins = [base + k * GROUP_SPACING for k in range(len(groups))]
    expected = gnu_assemble_many([text for _, text in groups], origins, CORPUS_DEFINES)
    failures = []
    for (number, text), origin, gnu in zip(groups, origins, expected, strict=True):
        try:
            ours = assemble(text, origin, "corpus.S", CORPUS_DEFINES).code.hex()
        except AsmError as err:
            ours = f"AsmError: {err.message}"
        if ours != gnu.hex():
            failures.append(
                f"corpus.S:{number} at {origin:#x}\n{text}\n  ours {ours}\n  gnu  {gnu.hex()}"
            )
    assert not failures, f"{len(failures)} groups differ:\n" + "\n".join(failures)
