"""The project's own asm/*.S, assembled by asm.assembler and by GNU as, byte for byte.

External symbols come from kernel_model.asm_offsets.asm_defines(), as when the
kernel loads its images; a .globl label of one file is an external symbol of the
others (kernel code calls across files). GNU as gets them as `.set` lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asm_gnu_ref import HAVE_GNU_AS, gnu_assemble

from asm.assembler import AsmError, assemble_file

ASM_DIR = Path(__file__).resolve().parents[2] / "asm"
ORIGIN = 0xC0100000


def sources() -> list[Path]:
    return sorted(ASM_DIR.glob("*.S"))


def base_defines() -> dict[str, int]:
    try:
        from kernel_model.asm_offsets import asm_defines
    except ImportError as err:
        pytest.fail(f"kernel_model.asm_offsets.asm_defines() is needed for asm/*.S: {err}")
    return dict(asm_defines())


def cross_file_defines(paths: list[Path], base: dict[str, int]) -> dict[Path, dict[str, int]]:
    """For each file: the base defines plus the .globl labels of the other files.

    Files are assembled in rounds until no new file succeeds, so a file that
    calls into another gets that file's addresses.
    """
    exported: dict[Path, dict[str, int]] = {}
    pending = list(paths)
    while pending:
        progress = False
        for path in list(pending):
            try:
                image = assemble_file(path, ORIGIN, _for(path, base, exported))
            except AsmError:
                continue
            exported[path] = {
                name: image.symbols[name] for name in image.globals if name in image.symbols
            }
            pending.remove(path)
            progress = True
        if not progress:
            break
    return {path: _for(path, base, exported) for path in paths}


def _for(path: Path, base: dict[str, int], exported: dict[Path, dict[str, int]]) -> dict[str, int]:
    defines = dict(base)
    for other, symbols in exported.items():
        if other != path:
            defines.update(symbols)
    return defines


def test_asm_defines_is_available():
    assert base_defines(), "asm_defines() returned nothing"


@pytest.mark.skipif(not HAVE_GNU_AS, reason="GNU as/ld not installed")
@pytest.mark.parametrize("path", sources(), ids=lambda path: path.name)
def test_real_source_matches_gnu_as(path):
    defines = cross_file_defines(sources(), base_defines())[path]
    ours = assemble_file(path, ORIGIN, defines).code
    gnu = gnu_assemble(path.read_text(), ORIGIN, defines)
    assert ours == gnu, f"{path.name}: first difference at byte {_first_difference(ours, gnu)}"


def _first_difference(ours: bytes, gnu: bytes) -> int:
    for index, (a, b) in enumerate(zip(ours, gnu, strict=False)):
        if a != b:
            return index
    return min(len(ours), len(gnu))
