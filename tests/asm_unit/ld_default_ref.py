"""GNU as + ld with ld's own default linker script: the whole image as ld makes it.

An oracle independent of the assembler's own convention (asm_gnu_ref.IMAGE_SCRIPT
is written from asm/_sections.py): the object GNU as makes is linked as a user
would link it, `ld -m elf_i386 -N -Ttext=ORIGIN`, with no script of ours, after
`.eh_frame`, `.note*` and `.comment` are taken out of it (they hold no code or
data the image is about).  `objcopy -O binary` gives the flat image from the
lowest allocated address on; NOBITS sections at the end (`.bss`), which objcopy
leaves out, are added as zeros.  The allocated section headers say where each
output section went, for messages.  The DWARF sections (`.debug_*`) are read
from the linked file: each at address 0, its relocations resolved by ld; the
line table and call frames as pyelftools decodes them (ld_line_rows, ld_frames).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from elftools.dwarf.callframe import FDE
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
    debug: dict[str, bytes]


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
        sections, debug = _sections(work / "out.elf")
        if not sections:  # objcopy refuses a file with nothing to copy
            return LdImage(origin, b"", (), debug)
        _run(["objcopy", "-O", "binary", "out.elf", "out.bin"], work)
        flat = (work / "out.bin").read_bytes()
    start = min(addr for _, addr, _ in sections)
    if start != origin:
        first = min(sections, key=lambda section: section[1])[0]
        raise LinkError(f"ld placed {first} at {start:#x}, before -Ttext={origin:#x}")
    end = max(addr + size for _, addr, size in sections)
    return LdImage(origin, flat + bytes(end - start - len(flat)), tuple(sections), debug)


def ld_line_rows(source: str, origin: int, as_flags: tuple[str, ...] = ()) -> list[tuple]:
    """The line table of the link as pyelftools decodes it: (address, file, line,
    column, is_stmt, discriminator, end_sequence) per row; `as_flags` ("-g") for a
    source without `.loc`."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "in.S").write_text(source if source.endswith("\n") else source + "\n")
        _run(["as", "--32", *as_flags, "-o", "in.o", "in.S"], work)
        _link(work, "in.o", origin)
        with open(work / "out.elf", "rb") as handle:
            dwarf = ELFFile(handle).get_dwarf_info()
            return [
                (state.address, state.file, state.line, state.column, state.is_stmt,
                 state.discriminator, state.end_sequence)
                for unit in dwarf.iter_CUs()
                for entry in dwarf.line_program_for_CU(unit).get_entries()
                if (state := entry.state) is not None
            ]  # fmt: skip


def _link(work: Path, name: str, origin: int) -> None:
    removed = ["--remove-section", ".note*", "--remove-section", ".comment"]
    _run(["objcopy", *removed, name, "kept.o"], work)
    _run(
        ["ld", "-m", "elf_i386", "-N", f"-Ttext={origin:#x}", "-e", f"{origin:#x}",
         "--no-warn-rwx-segments", "-o", "out.elf", "kept.o"],
        work,
    )  # fmt: skip


def ld_frames(source: str, origin: int) -> list[tuple]:
    """The call frames of `.eh_frame` and `.debug_frame` as pyelftools decodes them from
    a link that keeps `.eh_frame` (it moves what follows .rodata, not .text): (start,
    end, rows), each row (addr, CFA register, CFA offset, ((register, rule), ...)) with
    a rule ("offset", N), ("register", R), ("undefined",) or ("same_value",), sorted
    by start."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "in.S").write_text(source if source.endswith("\n") else source + "\n")
        _run(["as", "--32", "-o", "in.o", "in.S"], work)
        _link(work, "in.o", origin)
        with open(work / "out.elf", "rb") as handle:
            dwarf = ELFFile(handle).get_dwarf_info()
            entries = []
            if dwarf.has_EH_CFI():
                entries += dwarf.EH_CFI_entries()
            if dwarf.has_CFI():
                entries += dwarf.CFI_entries()
            return sorted(_frame(entry) for entry in entries if isinstance(entry, FDE))


_RULES = {"OFFSET": "offset", "REGISTER": "register", "UNDEFINED": "undefined",
          "SAME_VALUE": "same_value"}  # fmt: skip


def _frame(fde: FDE) -> tuple:
    start = fde.header["initial_location"]
    rows = []
    for line in fde.get_decoded().table:
        rules = []
        for key, rule in line.items():
            if isinstance(key, int):
                kind = _RULES[rule.type]
                rules.append((key, (kind, rule.arg) if kind in ("offset", "register") else (kind,)))
        rows.append((line["pc"], line["cfa"].reg, line["cfa"].offset, tuple(sorted(rules))))
    return start, start + fde.header["address_range"], tuple(rows)


def _sections(path: Path) -> tuple[list[tuple[str, int, int]], dict[str, bytes]]:
    """The allocated sections (name, address, size) and the DWARF ones' contents."""
    with open(path, "rb") as handle:
        elf = ELFFile(handle)
        allocated = [
            (section.name, section["sh_addr"], section["sh_size"])
            for section in elf.iter_sections()
            if section["sh_flags"] & 2 and section["sh_size"]  # SHF_ALLOC
        ]
        debug = {
            section.name: section.data()
            for section in elf.iter_sections()
            if section.name.startswith(".debug_") and section["sh_size"]
        }
    return allocated, debug


def _run(argv: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise LinkError(f"{argv[0]}: no answer in {TIMEOUT} s") from None
    if done.returncode:
        raise LinkError(done.stderr.strip())
