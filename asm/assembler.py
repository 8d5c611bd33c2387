"""The project's one assembler: AT&T source to the bytes GNU `as --32` gives.

Keystone 0.9.2 alone is not GNU as: it reads decimal numbers as hex in AT&T
mode, puts relative branches to resolver symbols 4 bytes off, truncates
over-wide immediates, and segfaults on `.text`. So this package parses the
source itself (comments, statements, macros, directives, expressions, labels),
lays it out with GNU as's branch relaxation, and asks Keystone only to encode
single instructions written in a canonical form it handles correctly.

What the image carries for a debugger or an ELF writer (issues 20 and 22):
- `Image.debug`: the DWARF sections, name -> bytes, as GNU as + `ld -Ttext=ORIGIN`
  leave them (each at address 0, relocations resolved for `origin`, mergeable
  strings merged): gcc -g's own sections, the `.debug_line` GNU as writes for
  `.loc` (or, for a source without `.loc`, for its instructions, as `as -g`
  does), and `.debug_frame` and/or `.eh_frame` for `.cfi_*` (`.eh_frame` as
  placed at the first 4-aligned address after `code`);
- `Image.line_rows`: the line table's rows (LineRow: address, file, line,
  column, is_stmt, discriminator, view, flags; each section's sequence ends with
  an end_sequence row);
- `Image.frames`: the call frames (Frame: [start, end) and its FrameRow unwind
  rows, the CFA and each saved register's rule from an address on).
None of it is part of `code`, and the DWARF sections' labels are not `symbols`.

Results are cached by a hash of the inputs, since the test runner assembles
the same routine thousands of times.  Below that, what depends only on an
instruction's text is shared by every copy of it, in any source: its parse
(unless it names a local label or a PIC form), the encoding of one with only
numbers in its operands, Keystone's answer for a canonical text.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from ._cfi import Frame, FrameRow, frame_sections, tables
from ._errors import SourceError
from ._expr import wrap64
from ._layout import LOCAL_MARK, Program, layout
from ._lines import LineRow, empty_line_program, line_program, statement_rows
from ._sections import is_debug, output_name, output_of
from ._source import SYMBOL, statements

__all__ = [
    "AsmError", "Frame", "FrameRow", "Image", "Line", "LineRow", "assemble", "assemble_file",
    "listing", "read_source",
]  # fmt: skip

# A source larger than this is refused before it is read (GNU as has no limit, but
# /dev/zero or a stray binary must not fill memory).
MAX_SOURCE_BYTES = 16 << 20

_CACHE_SIZE = 256
_cache: OrderedDict[str, Image] = OrderedDict()
_cache_lock = threading.Lock()


class AsmError(Exception):
    """A source error located at file:line, with the offending line's text."""

    def __init__(self, filename: str, line: int, text: str, message: str) -> None:
        self.filename, self.line, self.text, self.message = filename, line, text, message
        # A file-level problem (line 0) has no line to show: one line, "file: message".
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: {message}" + (f"\n    {text}" if text else ""))


class Line(NamedTuple):
    """One statement that emitted bytes or defined a label."""

    addr: int
    size: int
    lineno: int
    text: str


@dataclass(frozen=True)
class Image:
    """Assembled code placed at `origin`, with what is needed to map it back to source."""

    origin: int
    code: bytes
    symbols: dict[str, int]
    globals: frozenset[str]
    lines: tuple[Line, ...]
    filename: str = "<input>"  # as assemble() was given it: where `lines` come from
    # The DWARF sections, not part of `code`: name -> bytes as GNU ld leaves them
    # (each at address 0, its relocations resolved for this origin).
    debug: Mapping[str, bytes] = field(default_factory=lambda: DebugSections({}, {}))
    # The line table: `.loc` rows, or one row per instruction of a source without
    # them; each section's sequence ends with an end_sequence row.
    line_rows: tuple[LineRow, ...] = ()
    # The call frames `.cfi_*` describe, with their unwind rows.
    frames: tuple[Frame, ...] = ()


class DebugSections(Mapping):
    """Name -> bytes of the DWARF sections, read-only (the image cache shares it); a
    generated one is made when first asked for (the line table of a source without
    `.loc`, which most callers never read)."""

    def __init__(self, made: dict[str, bytes], later: dict) -> None:
        self._made, self._later = dict(made), dict(later)

    def __getitem__(self, name: str) -> bytes:
        if name not in self._made and name in self._later:
            self._made[name] = self._later.pop(name)()
        return self._made[name]

    def __iter__(self):
        return iter(sorted({*self._made, *self._later}))

    def __len__(self) -> int:
        return len({*self._made, *self._later})


def assemble(
    source: str,
    origin: int = 0,
    filename: str = "<input>",
    defines: Mapping[str, int] | None = None,
) -> Image:
    """Assemble `source` as if placed at `origin`; `defines` are external absolute symbols
    (a label of the source's own by the same name takes its place, as a linked
    object's own definition does).

    Raises AsmError for anything GNU as would reject (or would only warn about
    while changing the bytes, like a truncated immediate).
    """
    defines = dict(defines or {})
    key = _cache_key(source, origin, filename, defines)
    with _cache_lock:
        image = _cache.get(key)
        if image is not None:
            _cache.move_to_end(key)
    if image is None:
        _check_inputs(origin, defines)
        image = _assemble(source, origin, filename, defines)
        with _cache_lock:
            _cache[key] = image
            if len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    # A fresh symbols dict: a caller editing it must not change what the cache returns.
    return replace(image, symbols=dict(image.symbols))


def assemble_file(
    path: str | os.PathLike, origin: int = 0, defines: Mapping[str, int] | None = None
) -> Image:
    """Assemble a file; errors name the path as given."""
    return assemble(read_source(path), origin, os.fspath(path), defines)


def read_source(path: str | os.PathLike, limit: int = MAX_SOURCE_BYTES) -> str:
    """The text of a source file; AsmError (at line 0) for anything that is not a
    regular UTF-8 file of at most ``limit`` bytes.  Every reader of ``.S`` files
    goes through here, so each refusal reads the same."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise AsmError(name, 0, "", "not a regular file")
            data = handle.read(limit + 1)
    except OSError as err:
        raise AsmError(name, 0, "", err.strerror or str(err)) from None
    if len(data) > limit:
        raise AsmError(name, 0, "", f"larger than {limit >> 20} MiB: refused")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise AsmError(name, line, "", f"not UTF-8 text (byte {err.start})") from None


def listing(image: Image) -> str:
    """One line per statement, like `as -a`: line number, address, bytes, source."""
    rows = []
    for line in image.lines:
        offset = line.addr - image.origin
        data = image.code[offset : offset + min(line.size, 16)].hex()
        if line.size > 16:
            data += "..."
        rows.append(f"{line.lineno:5d}  {line.addr:08x}  {data:<35} {line.text}")
    return "\n".join(rows) + ("\n" if rows else "")


def _cache_key(source: str, origin: int, filename: str, defines: dict[str, int]) -> str:
    """sha256 over every input, built for speed: this runs on every call.

    Defines are hashed in the caller's order (a reordered dict is only a cache
    miss); names are NUL-joined, values packed as 64-bit numbers when they fit.
    """
    header = f"{origin}\0{len(filename)}:{filename}\0" + "\0".join(map(str, defines)) + "\0\0"
    digest = hashlib.sha256(header.encode("utf-8", "surrogatepass"))
    try:
        digest.update(struct.pack(f"<{len(defines)}q", *defines.values()))
    except (struct.error, TypeError):
        digest.update(repr(list(defines.values())).encode())
    digest.update(source.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _assemble(source: str, origin: int, filename: str, defines: dict[str, int]) -> Image:
    defines = {name: wrap64(value) for name, value in defines.items()}
    try:
        program = Program(statements(source, defines), defines)
        final = layout(program, origin)
    except SourceError as err:
        raise AsmError(filename, err.lineno, err.text, err.message) from None
    code, debug, lines = _split(program, final)
    if origin + len(code) > 1 << 32:
        raise AsmError(filename, 0, "", "image runs past the 4 GiB address space")
    try:
        debug, rows, frames = _debug_info(program, final, filename, origin + len(code), debug)
    except SourceError as err:
        raise AsmError(filename, err.lineno, err.text, err.message) from None
    symbols = _symbols(program, final)
    globals_ = frozenset(program.globals)
    return Image(origin, code, symbols, globals_, lines, filename, debug, rows, frames)


def _split(program: Program, final) -> tuple[bytes, dict[str, bytes], tuple[Line, ...]]:
    """The flat image, the DWARF sections' bytes, and the lines of the image's statements."""
    code, debug, lines = bytearray(), {}, []
    for statement, (start, chunk) in zip(program.statements, final.chunks, strict=True):
        output = output_of(statement.place[0])
        if is_debug(output):
            debug[output_name(output)] = debug.get(output_name(output), b"") + chunk
            continue
        code += chunk
        if chunk or statement.labelled:
            lines.append(Line(start, len(chunk), statement.stmt.lineno, statement.stmt.text))
    return bytes(code), debug, tuple(lines)


def _symbols(program: Program, final) -> dict[str, int]:
    """Labels and `.set` symbols of the image (not the DWARF sections' own, nor views)."""
    names = program.labels | program.sets
    return {
        name: final.env[name].value
        for name in sorted(names - program.line_info.view_symbols)
        if LOCAL_MARK not in name and "@" not in name and name in final.env
        and not is_debug(output_of(program.label_sections.get(name, ".text")))
    }  # fmt: skip


def _debug_info(program: Program, final, filename: str, end: int, debug: dict):
    """(DWARF sections, line rows, frames): the frame sections GNU as adds (`.eh_frame`
    placed after the image, 4-aligned), and for a source without `.loc` a line table
    made when first asked for."""
    frames = final.cfi.frames
    if frames:
        for name, data in frame_sections(frames, program.unwind.outputs, (end + 3) & ~3).items():
            if name in debug:
                raise SourceError(f"'.cfi_*' with bytes of the source's own in {name}")
            debug[name] = data
    if program.line_info.used:
        rows = tuple(row for sequence in final.rows.table(program.row_sections) for row in sequence)
        return DebugSections(debug, {}), rows, tables(frames)
    if debug.get(".debug_info") and ".debug_line" not in debug:
        # DWARF of the source's own without `.loc`: GNU as writes a table with no rows
        debug[".debug_line"] = empty_line_program(program.line_info.files)
        return DebugSections(debug, {}), (), tables(frames)
    rows = statement_rows(program.statements, final.chunks)
    later = {".debug_line": lambda: line_program(rows, filename)} if rows else {}
    if ".debug_line" in debug:
        later = {}
    return DebugSections(debug, later), rows, tables(frames)


def _check_inputs(origin: int, defines: dict[str, int]) -> None:
    """Caller mistakes, not source errors: they raise ValueError."""
    if not isinstance(origin, int) or not 0 <= origin < 1 << 32:
        raise ValueError(f"origin must be an address in 0..0xffffffff, not {origin!r}")
    for name, value in defines.items():
        if not isinstance(name, str) or not SYMBOL.fullmatch(name) or not isinstance(value, int):
            raise ValueError(f"define {name!r} must map a symbol name to an int, not {value!r}")
        if not -(1 << 63) <= value < 1 << 64:
            raise ValueError(f"define {name!r} = {value:#x} does not fit in 64 bits")
