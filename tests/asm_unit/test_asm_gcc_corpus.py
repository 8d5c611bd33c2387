"""gcc's own output, byte for byte as GNU as: the C files under tests/asm_c/.

Each file is compiled with `gcc -m32 -S` at -O0, -O2 and -Os, without and with
-fpic (CFI kept), and the assembly is assembled by asm.assembler and by GNU as +
ld (asm_gnu_ref.gnu_image: the sections laid out as GNU ld's default script
orders them). No output may give bytes that differ from GNU's; the share that
assembles at all is the measure of how much real code the assembler takes.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from asm_gnu_ref import HAVE_GNU_AS, GnuAsError, gnu_image

from asm.assembler import AsmError, assemble

C_DIR = Path(__file__).resolve().parents[1] / "asm_c"
ORIGIN = 0xC0100000
OPTIMISATIONS = ("-O0", "-O2", "-Os")
PIC = ("-fno-pie", "-fpic")
# Freestanding: no stack protector (it calls __stack_chk_fail), no CET notes.
BASE_FLAGS = ("-m32", "-S", "-ffreestanding", "-fno-stack-protector", "-fcf-protection=none")
HAVE_GCC = shutil.which("gcc") is not None
# Vector code for a few files: SSE2 at -O3, and AVX2 (VEX, %ymm) for Haswell.
VECTOR_FILES = ("memcpy.c", "memset.c", "sse_add.c", "varargs_sum.c", "globals.c", "x87.c")
VECTOR_FLAGS = (("-O3", "-msse2"), ("-O3", "-march=haswell"))
# The bar; 216 of 216 assemble byte-identically since PIC code is resolved
# inside the image (asm/_pic.py).
MIN_SHARE = 0.95


def c_files() -> list[Path]:
    return sorted(C_DIR.glob("*.c"))


def compile_c(path: Path, flags: tuple[str, ...]) -> str:
    done = subprocess.run(
        ["gcc", *BASE_FLAGS, *flags, "-o", "-", str(path)], capture_output=True, text=True
    )
    if done.returncode:
        pytest.fail(f"gcc {' '.join(flags)} {path.name}: {done.stderr.strip()}")
    return done.stdout


@pytest.fixture(scope="module")
def outputs() -> dict[tuple[str, ...], str]:
    """(file, flags...) -> gcc's assembly."""
    if not HAVE_GCC:
        pytest.skip("gcc not installed: no C corpus")
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


def test_corpus_has_thirty_c_files():
    assert len(c_files()) >= 30


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
def test_gcc_output_is_byte_identical_to_gnu_as(outputs):
    identical, refused, different = [], [], []
    for key, source in outputs.items():
        try:
            ours = assemble(source, ORIGIN, f"{key[0]}.s").code
        except AsmError as err:
            refused.append(f"{' '.join(key)}: {err.message}")
            continue
        try:
            gnu = gnu_image(source, ORIGIN)
        except GnuAsError as err:
            different.append(f"{' '.join(key)}: GNU refuses ({err}) but we assembled it")
            continue
        (identical if ours == gnu else different).append(" ".join(key))
    share = len(identical) / len(outputs)
    print(f"\n{len(identical)}/{len(outputs)} gcc outputs byte-identical ({share:.0%})")
    assert not different, "different bytes:\n" + "\n".join(different)
    assert share >= MIN_SHARE, f"only {share:.0%} assembled; refused:\n" + "\n".join(refused)
