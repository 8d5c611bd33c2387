"""GNU as + ld with ld's own default linker script: the whole image as ld makes it.

An oracle independent of the assembler's own convention (asm_gnu_ref.IMAGE_SCRIPT
is written from asm/_sections.py): the object GNU as makes is linked as a user
would link it, `ld -m elf_i386 -N -Ttext=ORIGIN`, with no script of ours, after
`.eh_frame`, `.note*` and `.comment` are taken out of it (they hold no code or
data the image is about).  `objcopy -O binary` gives the flat image from the
lowest allocated address on; NOBITS sections at the end (`.bss`), which objcopy
leaves out, are added as zeros.  The allocated section headers say where each
output section went, for messages.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

HAVE_BINUTILS = all(shutil.which(tool) for tool in ("as", "ld", "objcopy"))
TIMEOUT = 20
# Sections the image does not hold, removed from GNU as's object before the link.
REMOVED = (".eh_frame", ".note*", ".comment")


class LinkError(Exception):
    """GNU as, objcopy or ld refused the input; the message is their stderr."""


@dataclass(frozen=True)
class LdImage:
    """The flat image and the allocated output sections: (name, address, size)."""

    origin: int
    code: bytes
    sections: tuple[tuple[str, int, int], ...]


def ld_image(source: str, origin: int) -> LdImage:
    """What `as --32` then `ld -N -Ttext=ORIGIN` (default script) make of `source`."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "in.S").write_text(source if source.endswith("\n") else source + "\n")
        _run(["as", "--32", "-o", "in.o", "in.S"], work)
        removed = [arg for name in REMOVED for arg in ("--remove-section", name)]
        _run(["objcopy", *removed, "in.o", "kept.o"], work)
        _run(
            ["ld", "-m", "elf_i386", "-N", f"-Ttext={origin:#x}", "-e", f"{origin:#x}",
             "--no-warn-rwx-segments", "-o", "out.elf", "kept.o"],
            work,
        )  # fmt: skip
        sections = _allocated(work / "out.elf")
        if not sections:  # objcopy refuses a file with nothing to copy
            return LdImage(origin, b"", ())
        _run(["objcopy", "-O", "binary", "out.elf", "out.bin"], work)
        flat = (work / "out.bin").read_bytes()
    start = min(addr for _, addr, _ in sections)
    if start != origin:
        first = min(sections, key=lambda section: section[1])[0]
        raise LinkError(f"ld placed {first} at {start:#x}, before -Ttext={origin:#x}")
    end = max(addr + size for _, addr, size in sections)
    return LdImage(origin, flat + bytes(end - start - len(flat)), tuple(sections))


def _allocated(path: Path) -> list[tuple[str, int, int]]:
    with open(path, "rb") as handle:
        elf = ELFFile(handle)
        return [
            (section.name, section["sh_addr"], section["sh_size"])
            for section in elf.iter_sections()
            if section["sh_flags"] & 2 and section["sh_size"]  # SHF_ALLOC
        ]


def _run(argv: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise LinkError(f"{argv[0]}: no answer in {TIMEOUT} s") from None
    if done.returncode:
        raise LinkError(done.stderr.strip())
