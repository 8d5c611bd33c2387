"""gcc's own output, the whole image byte for byte as GNU as + ld: tests/asm_c/*.c.

Each file is compiled once a session with `gcc -m32 -S` at -O0, -O2, -Os and
-O3, with -fno-pie, -fpic and -fpie (CFI kept), and the assembly is assembled by
asm.assembler and by GNU as, linked by GNU ld with its own default script
(ld_default_ref.ld_image: `ld -N -Ttext=ORIGIN`, objcopy -O binary, .bss as
zeros).  No output may give an image that differs from ld's; the share that
assembles at all is the measure of how much real code the assembler takes.
The corpus must keep holding what the image is made of (a test checks): jump
tables, merged strings, `.data.rel*`, `.bss` and common symbols.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from asm_gnu_ref import HAVE_GNU_AS, GnuAsError, gnu_image

from asm.assembler import AsmError, assemble

C_DIR = Path(__file__).resolve().parents[1] / "asm_c"
ORIGIN = 0xC0100000
OPTIMISATIONS = ("-O0", "-O2", "-Os", "-O3")
PIC = ("-fno-pie", "-fpic", "-fpie")
# Freestanding: no stack protector (it calls __stack_chk_fail), no CET notes.
BASE_FLAGS = ("-m32", "-S", "-ffreestanding", "-fno-stack-protector", "-fcf-protection=none")
HAVE_GCC = shutil.which("gcc") is not None
# Vector code for a few files: SSE2 at -O3, and AVX2 (VEX, %ymm) for Haswell.
VECTOR_FILES = ("memcpy.c", "memset.c", "sse_add.c", "varargs_sum.c", "globals.c", "x87.c")
VECTOR_FLAGS = (("-O3", "-msse2"), ("-O3", "-march=haswell"))
# The bar; every output assembles to ld's image since PIC code is resolved
# inside the image (asm/_pic.py) and mergeable sections are merged (asm/_merge.py).
MIN_SHARE = 0.95
# What the corpus must hold, in some output: (what, pattern in gcc's assembly).
CONSTRUCTS = (
    ("a jump table", r"jmp\s+\*\.L\d+\(,%\w+,4\)"),
    ("a 32-aligned table after another in .rodata", r"\.long\s+\.L\d+\n(?:.*\n)*?\s*\.align 32"),
    ("strings ld merges", r"\.rodata\.str1\.1,\"aMS\""),
    ("strings aligned to 4", r"\.rodata\.str1\.4,\"aMS\""),
    ("mergeable constants", r"\.rodata\.cst\d+,\"aM\""),
    (".data.rel.ro.local", r"\.section\s+\.data\.rel\.ro\.local"),
    (".data.rel.ro", r"\.section\s+\.data\.rel\.ro,"),
    (".data.rel", r"\.section\s+\.data\.rel,"),
    (".bss", r"\.bss\n"),
    ("a common symbol", r"\.comm\s"),
    ("cold code in .text.unlikely", r"\.section\s+\.text\.unlikely"),
)


def c_files() -> list[Path]:
    return sorted(C_DIR.glob("*.c"))


def compile_c(path: Path, flags: tuple[str, ...]) -> str:
    done = subprocess.run(
        ["gcc", *BASE_FLAGS, *flags, "-o", "-", str(path)], capture_output=True, text=True
    )
    if done.returncode:
        pytest.fail(f"gcc {' '.join(flags)} {path.name}: {done.stderr.strip()}")
    return done.stdout


@functools.cache
def compiled(path: Path, flags: tuple[str, ...]) -> str:
    """gcc's assembly for one file and flag set, compiled once a session."""
    return compile_c(path, flags)


@functools.cache
def corpus_outputs() -> dict[tuple[str, ...], str]:
    """(file, flags...) -> gcc's assembly, compiled once a session."""
    jobs = [(path, (opt, pic)) for path in c_files() for opt in OPTIMISATIONS for pic in PIC]
    jobs += [
        (C_DIR / name, (*flags, pic))
        for name in VECTOR_FILES
        for flags in VECTOR_FLAGS
        for pic in PIC
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        texts = pool.map(lambda job: compile_c(*job), jobs)
        return {(path.name, *flags): text for (path, flags), text in zip(jobs, texts, strict=True)}


@pytest.fixture(scope="module")
def outputs() -> dict[tuple[str, ...], str]:
    if not HAVE_GCC:
        pytest.skip("gcc not installed: no C corpus")
    return corpus_outputs()


def test_corpus_has_thirty_c_files():
    assert len(c_files()) >= 30


def test_corpus_holds_what_the_image_is_made_of(outputs):
    texts = "\n".join(outputs.values())
    missing = [what for what, pattern in CONSTRUCTS if not re.search(pattern, texts)]
    assert not missing, f"no gcc output has {', '.join(missing)}: add a C file that does"


def _verdict(key: tuple[str, ...], source: str) -> tuple[str, str]:
    """('identical' | 'refused' | 'different', what to show) for one gcc output."""
    try:
        ours = assemble(source, ORIGIN, f"{key[0]}.s").code
    except AsmError as err:
        return "refused", f"{' '.join(key)}: {err.message}"
    try:
        gnu = gnu_image(source, ORIGIN)
    except GnuAsError as err:
        return "different", f"{' '.join(key)}: GNU refuses ({err}) but we assembled it"
    if ours == gnu:
        return "identical", " ".join(key)
    at = next((i for i, (a, b) in enumerate(zip(ours, gnu, strict=False)) if a != b), None)
    at = min(len(ours), len(gnu)) if at is None else at
    return (
        "different",
        f"{' '.join(key)}: first at {ORIGIN + at:#x} ({len(ours)} vs {len(gnu)} bytes)",
    )


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
def test_gcc_output_gives_ld_image(outputs):
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(pool.map(lambda item: _verdict(*item), outputs.items()))
    found: dict[str, list[str]] = {"identical": [], "refused": [], "different": []}
    for kind, shown in verdicts:
        found[kind].append(shown)
    share = len(found["identical"]) / len(outputs)
    print(f"\n{len(found['identical'])}/{len(outputs)} gcc outputs give ld's image ({share:.0%})")
    assert not found["different"], "different images:\n" + "\n".join(found["different"])
    assert share >= MIN_SHARE, f"only {share:.0%} assembled; refused:\n" + "\n".join(
        found["refused"]
    )
