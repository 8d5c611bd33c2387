"""GNU `as --32` + `ld` as the reference our assembler is compared with.

Many sources are assembled in one `as` run (each in its own section) and linked in
one `ld` run that places section K at its own address, because starting the
binutils once per statement would make the differential tests take minutes.
"""

from __future__ import annotations

import bisect
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ld_default_ref import LinkError, ld_image

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
    done = _call(argv, cwd)
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


_AS_LINE = re.compile(r"^[^:\n]*in\.S:(\d+): Error: (.*)$", re.M)
_LD_CASE = re.compile(r"\.text\.g(\d+)")
MAX_ROUNDS = 8
TIMEOUT = 10


def gnu_verdicts(
    sources: Sequence[str], origins: Sequence[int], defines: Mapping[str, int] | None = None
) -> list[bytes | GnuAsError]:
    """For each source: GNU's bytes at its origin, or the GnuAsError it was refused with.

    All sources go through one `as` and one `ld` run, each in its own section; the
    sources GNU refuses are found from the line numbers (as) or section names (ld)
    in the messages, dropped, and the rest run again. A source must not switch
    sections or open a block it does not close (the caller runs those alone).
    """
    verdicts: dict[int, bytes | GnuAsError] = {}
    pending = list(range(len(sources)))
    for _ in range(MAX_ROUNDS):
        if not pending:
            break
        refused = _batch_round(sources, origins, defines or {}, pending, verdicts)
        if refused is None:
            break
        pending = [k for k in pending if k not in refused]
    for k in pending:  # what the batch could not place: one run each
        if k not in verdicts:
            verdicts[k] = gnu_verdict(sources[k], origins[k], defines)
    return [verdicts[k] for k in range(len(sources))]


def gnu_verdict(
    source: str, origin: int, defines: Mapping[str, int] | None = None
) -> bytes | GnuAsError:
    """GNU's image for one source alone (all its sections), or the GnuAsError that
    refused it."""
    try:
        return gnu_image(source, origin, defines)
    except GnuAsError as err:
        return err


_WARNING = re.compile(r"^[^:\n]*in\.S:(?:(\d+):)? Warning: (.*)$", re.M)


def gnu_warnings(source: str, defines: Mapping[str, int] | None = None) -> dict[int, list[str]]:
    """What GNU as warns about in `source` alone, by the source's line number (a
    warning about the whole file, like a missing last newline, goes to its last line)."""
    prelude = defines_prelude(defines or {})
    last = source.count("\n") + 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "in.S").write_text(prelude + source + "\n")
        done = _call(["as", "--32", "-o", "in.o", "in.S"], work)
    warnings: dict[int, list[str]] = {}
    for match in _WARNING.finditer(done.stderr):
        line = int(match.group(1)) - prelude.count("\n") if match.group(1) else last
        warnings.setdefault(line, []).append(match.group(2))
    return warnings


def _batch_round(sources, origins, defines, pending, verdicts) -> set[int] | None:
    """One as+ld run over `pending`; fills `verdicts`, returns the cases refused this
    round (empty when all are done) or None when a failure could not be attributed."""
    text, starts, script = defines_prelude(defines), [], "SECTIONS {\n"
    for k in pending:
        starts.append(text.count("\n") + 2)
        text += f'.section .text.g{k},"ax",@progbits\n{sources[k]}\n'
        script += f"  .text.g{k} {origins[k]:#x} : {{ *(.text.g{k}) }}\n"
    script += "  /DISCARD/ : { *(*) }\n}\n"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "in.S").write_text(text)
        (work / "link.ld").write_text(script)
        done = _call(["as", "--32", "-o", "in.o", "in.S"], work)
        if done.returncode:
            return _refused(_as_errors(done.stderr, starts, pending), verdicts)
        done = _call(
            ["ld", "-m", "elf_i386", "-e", "0", "-T", "link.ld", "-o", "o.elf", "in.o"], work
        )
        if done.returncode:
            return _refused(_ld_errors(done.stderr, pending), verdicts)
        sections = elf32_sections((work / "o.elf").read_bytes())
    for k in pending:
        verdicts[k] = sections.get(f".text.g{k}", b"")
    return set()


def _refused(errors: dict[int, str], verdicts) -> set[int] | None:
    if not errors:
        return None
    for k, message in errors.items():
        verdicts[k] = GnuAsError(message)
    return set(errors)


def _as_errors(stderr: str, starts: list[int], pending: list[int]) -> dict[int, str]:
    errors: dict[int, str] = {}
    for match in _AS_LINE.finditer(stderr):
        slot = bisect.bisect_right(starts, int(match.group(1))) - 1
        if slot >= 0:
            errors.setdefault(pending[slot], match.group(2))
    return errors


def _ld_errors(stderr: str, pending: list[int]) -> dict[int, str]:
    errors: dict[int, str] = {}
    for line in stderr.splitlines():
        for match in _LD_CASE.finditer(line):
            if int(match.group(1)) in pending:
                errors.setdefault(int(match.group(1)), line)
    return errors


def _call(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """One binutils run; one that takes too long (GNU as really writes `.fill 0x7fffffff`)
    counts as a refusal."""
    try:
        return subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 1, "", f"{argv[0]}: no answer in {TIMEOUT} s")


def gnu_image(source: str, origin: int, defines: Mapping[str, int] | None = None) -> bytes:
    """The flat image GNU as + ld give for a multi-section source, linked with ld's
    own default script (ld_default_ref.ld_image)."""
    try:
        return ld_image(defines_prelude(defines or {}) + source + "\n", origin).code
    except LinkError as err:
        raise GnuAsError(str(err)) from None
