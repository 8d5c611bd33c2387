"""Branch relaxation against GNU as on seeded random programs.

Random jumps, skips and alignments exercise what hand-written cases rarely reach:
alignment padding that shrinks as branches grow, and GNU as's per-pass estimate
of where a forward target will land (relax_frag in gas/write.c). Every program
must come out byte-identical to GNU as --32.
"""

from __future__ import annotations

import random

import pytest
from asm_gnu_ref import HAVE_GNU_AS, gnu_assemble_many

from asm.assembler import assemble

PROGRAMS = 300
SEED = 1606


def random_program(rng: random.Random, tag: int) -> str:
    labels = [f"r{tag}_{index}" for index in range(rng.randint(3, 12))]
    lines = []
    for label in labels:
        lines.append(f"{label}:")
        for _ in range(rng.randint(1, 3)):
            lines.append(random_statement(rng, labels))
    return "\n".join(lines)


def random_statement(rng: random.Random, labels: list[str]) -> str:
    roll = rng.random()
    if roll < 0.45:
        return f"{rng.choice(['jmp', 'je', 'jne', 'jl', 'call'])} {rng.choice(labels)}"
    if roll < 0.75:
        return f".skip {rng.randint(0, 140)}"
    if roll < 0.85:
        return f".p2align {rng.randint(0, 6)}"
    if roll < 0.9:
        return f".balign {rng.choice([2, 4, 8, 16, 32])}, 0xcc"
    return f".long {rng.choice(labels)} - {rng.choice(labels)}"


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
def test_random_programs_relax_like_gnu_as():
    rng = random.Random(SEED)
    programs = [random_program(rng, tag) for tag in range(PROGRAMS)]
    origins = [0xC0100000 + tag * 0x10000 for tag in range(PROGRAMS)]
    expected = gnu_assemble_many(programs, origins)
    differing = [
        program
        for program, origin, gnu in zip(programs, origins, expected, strict=True)
        if assemble(program, origin).code != gnu
    ]
    assert not differing, f"{len(differing)} programs differ, first:\n{differing[0]}"
