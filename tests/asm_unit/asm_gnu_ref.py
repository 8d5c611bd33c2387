"""GNU `as --32` + `ld` as the reference our assembler is compared with.

Many sources are assembled in one `as` run (each in its own section) and linked in
one `ld` run that places section K at its own address, because starting the
binutils once per statement would make the differential tests take minutes.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

HAVE_GNU_AS = all(shutil.which(tool) for tool in ("as", "ld"))


class GnuAsError(Exception):
    """GNU as or ld rejected the input; the message is their stderr."""


def defines_prelude(defines: Mapping[str, int]) -> str:
    """`.set` lines giving GNU as the same external symbols our `defines` give us."""
    return "".join(f".set {name}, {value:#x}\n" for name, value in defines.items())


def gnu_assemble_many(
    sources: Sequence[str], origins: Sequence[int], defines: Mapping[str, int] | None = None
) -> list[bytes]:
    """Bytes GNU as + ld give for each source placed at the matching origin.

    Each source gets its own section, so a source must not switch sections itself.
    """
    text = defines_prelude(defines or {})
    script = "SECTIONS {\n"
    for k, (source, origin) in enumerate(zip(sources, origins, strict=True)):
        text += f'.section .text.g{k},"ax",@progbits\n{source}\n'
        script += f"  .text.g{k} {origin:#x} : {{ *(.text.g{k}) }}\n"
    sections = _assemble_and_link(text, script + "  /DISCARD/ : { *(*) }\n}\n")
    return [sections.get(f".text.g{k}", b"") for k in range(len(sources))]


def gnu_assemble(source: str, origin: int = 0, defines: Mapping[str, int] | None = None) -> bytes:
    """Bytes GNU as + ld give for one source in .text at `origin` (`.text` in it is harmless)."""
    script = f"SECTIONS {{\n  .text {origin:#x} : {{ *(.text) }}\n  /DISCARD/ : {{ *(*) }}\n}}\n"
    text = defines_prelude(defines or {}) + source + "\n"
    return _assemble_and_link(text, script).get(".text", b"")


def _assemble_and_link(text: str, script: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "in.S").write_text(text)
        (work / "link.ld").write_text(script)
        _run(["as", "--32", "-o", "in.o", "in.S"], work)
        _run(["ld", "-m", "elf_i386", "-e", "0", "-T", "link.ld", "-o", "out.elf", "in.o"], work)
        return elf32_sections((work / "out.elf").read_bytes())


def _run(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise GnuAsError(done.stderr.strip())


def elf32_sections(elf: bytes) -> dict[str, bytes]:
    """Name -> contents of every section in a little-endian ELF32 file."""
    shoff = struct.unpack_from("<I", elf, 0x20)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x2E)
    headers = [struct.unpack_from("<10I", elf, shoff + i * shentsize) for i in range(shnum)]
    names_at = headers[shstrndx][4]
    result = {}
    for name_off, _type, _flags, _addr, offset, size, *_ in headers:
        end = elf.index(b"\0", names_at + name_off)
        result[elf[names_at + name_off : end].decode()] = elf[offset : offset + size]
    return result
