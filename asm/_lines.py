"""DWARF line numbers as GNU as makes them (gas/dwarf2dbg.c): `.file N`/`.loc` to
rows, and rows to the `.debug_line` GNU as writes.

A `.loc` sets the line state (file, line, column, is_stmt, isa, discriminator,
basic_block, prologue_end, epilogue_begin).  Without a `view` option its row is
for the next instruction, wherever that is (a second `.loc` first puts the one
before it at the current address); with `view` the row is at the current
address at once.  After each row the discriminator and the three one-row flags
are cleared; is_stmt stays.  A row's view number is 0 when its address is past
the previous row's of its section (or `view -0` resets it), else one more than
that row's: `view SYMBOL` defines SYMBOL to it (gcc's location lists name
them), `view 0` asserts it.

The table: one sequence per section with rows, in the order their first rows
came, each opened by DW_LNE_set_address and closed by DW_LNE_end_sequence at
the section's end; rows advance with special opcodes where they fit (line base
-5, range 14, opcode base 13), DW_LNS_const_add_pc or DW_LNS_advance_pc; a
`view -0` row at the previous row's place (or at the start of a fragment right
after one ending at an alignment) gets DW_LNE_set_address, so readers reset
their view count.  The header is version 5 when the source names file 0
(`.file 0 "dir" "file"`, as gcc -gdwarf-5 does), with directory and file names
put in `.debug_line_str` (directories, then files, each written again as GNU
as writes them, for ld to merge), else version 3.  A file's directory is the
part of its name before the last `/`, numbered in order of first use after
directory 0 (the compilation directory, version 5 only).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, replace
from typing import NamedTuple

from ._errors import SourceError
from ._expr import Val
from ._items import leb128

LINE_BASE, LINE_RANGE, OPCODE_BASE = -5, 14, 13
_MAX_SPECIAL_ADDR_DELTA = (255 - OPCODE_BASE) // LINE_RANGE
_OPCODE_LENGTHS = bytes((0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1))
(_COPY, _ADVANCE_PC, _ADVANCE_LINE, _SET_FILE, _SET_COLUMN, _NEGATE_STMT,
 _BASIC_BLOCK, _CONST_ADD_PC, _FIXED_ADVANCE_PC, _PROLOGUE_END, _EPILOGUE_BEGIN,
 _SET_ISA) = range(1, 13)  # fmt: skip
_END_SEQUENCE, _SET_ADDRESS, _SET_DISCRIMINATOR = 1, 2, 4
_QUOTED = re.compile(r'"((?:\\.|[^"\\])*)"')
LINE_STR_LABEL = "\x03line_str"  # labels of the names GNU as adds to .debug_line_str


class LineRow(NamedTuple):
    """One row of the line table (DWARF's state machine registers, and the view)."""

    addr: int
    file: int
    line: int
    column: int = 0
    is_stmt: bool = True
    discriminator: int = 0
    view: int = 0
    basic_block: bool = False
    prologue_end: bool = False
    epilogue_begin: bool = False
    isa: int = 0
    end_sequence: bool = False


@dataclass(frozen=True)
class State:
    """The line registers a `.loc` sets (addr 0: a row takes its address when placed)."""

    file: int = 1
    line: int = 1
    column: int = 0
    is_stmt: bool = True
    discriminator: int = 0
    basic_block: bool = False
    prologue_end: bool = False
    epilogue_begin: bool = False
    isa: int = 0


@dataclass
class Row:
    """A row of the line table, placed where this item lands."""

    state: State
    view: str | None = None  # the symbol `view SYMBOL` defines
    reset: bool = False  # `view -0`
    zero: bool = False  # `view 0`

    def emit(self, p) -> bytes:
        p.rows.add(self, p)
        return b""


class Files:
    """`.file N ["dir"] "name" [md5 VALUE]` as GNU as numbers files and directories."""

    def __init__(self) -> None:
        self.files: dict[int, tuple[str, str, bytes | None]] = {}  # n -> (dir, name, md5)

    def file(self, text: str) -> bool:
        """Record a numbered `.file`; False for `.file "name"` (the object's file symbol)."""
        text = text.strip()
        if _QUOTED.fullmatch(text):
            return False
        number, _, rest = text.partition(" ")
        strings = _QUOTED.findall(rest)
        tail = _QUOTED.sub("", rest).split()
        if not number.isdigit() or not 1 <= len(strings) <= 2:
            raise SourceError(f"'.file' expects a quoted file name, got '{text}'")
        md5 = None
        if tail:
            if tail[0] != "md5" or len(tail) != 2:
                raise SourceError(f"junk at the end of '.file {text}'")
            try:
                md5 = (int(tail[1], 0) & ((1 << 128) - 1)).to_bytes(16, "little")
            except ValueError:
                raise SourceError(f"bad md5 value '{tail[1]}' in '.file'") from None
        directory = strings[0] if len(strings) == 2 else ""
        self.files[int(number)] = (directory, strings[-1], md5)
        return True

    @property
    def version(self) -> int:
        return 5 if 0 in self.files else 3

    def tables(self) -> tuple[list[str], list[tuple[str, int, bytes | None]]]:
        """(directories, files as (name, directory index, md5)) for the header."""
        numbers = sorted(self.files)
        first = 0 if self.version == 5 else 1
        if numbers != list(range(first, len(numbers) + first)):
            missing = next(n for n in range(first, numbers[-1] + 1) if n not in self.files)
            raise SourceError(f"unassigned file number {missing}")
        directories = [self.files[0][0]] if self.version == 5 else []
        files = []
        for number in numbers:
            directory, name, md5 = self.files[number]
            if "/" in name:
                directory, name = name.rsplit("/", 1)
                directory = directory or "/"
            elif self.version == 5 or not directory:
                files.append((name, 0, md5))
                continue
            if directory not in directories[1 if self.version == 5 else 0 :]:
                directories.append(directory)
            index = directories.index(directory, 1 if self.version == 5 else 0)
            files.append((name, index + (self.version != 5), md5))
        return directories, files


class LineInfo:
    """`.file` and `.loc` while reading: the rows they ask for, in the source's order."""

    def __init__(self) -> None:
        self.files = Files()
        self.state = State()
        self.pending: Row | None = None
        self.used = False
        self.view_symbols: set[str] = set()

    def file(self, text: str) -> None:
        self.files.file(text)

    def loc(self, text: str) -> list:
        """`.loc FILE LINE [COLUMN] [options]`: the rows to place here."""
        parts = text.replace(",", " ").split()
        if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
            raise SourceError(f"'.loc' expects 'file line [column]', got '{text}'")
        number = int(parts[0])
        if number not in self.files.files:
            raise SourceError(f"unassigned file number {number} in '.loc'")
        placed = [self.pending] if self.pending else []
        self.pending, self.used = None, True
        state = replace(self.state, file=number, line=int(parts[1]))
        rest = parts[2:]
        if rest and rest[0].isdigit():
            state, rest = replace(state, column=int(rest[0])), rest[1:]
        row = Row(state)
        while rest:
            option, rest = rest[0], rest[1:]
            if option in ("basic_block", "prologue_end", "epilogue_begin"):
                state = replace(state, **{option: True})
                continue
            if option not in ("is_stmt", "isa", "discriminator", "view") or not rest:
                raise SourceError(f"unknown .loc sub-directive '{option}'")
            value, rest = rest[0], rest[1:]
            if option == "view":
                row = self.view(row, value)
                continue
            if not value.isdigit() or (option == "is_stmt" and value not in ("0", "1")):
                raise SourceError(f"bad {option} value '{value}' in '.loc'")
            state = replace(state, **{option: int(value) if option != "is_stmt" else value == "1"})
        self.state = replace(state, discriminator=0, basic_block=False, prologue_end=False,
                             epilogue_begin=False)  # fmt: skip
        row.state = state
        if row.view is None and not (row.reset or row.zero):
            self.pending = row
            return placed
        return [*placed, row]

    def view(self, row: Row, value: str) -> Row:
        if value == "-0":
            return replace(row, reset=True)
        if value == "0":
            return replace(row, zero=True)
        if not re.fullmatch(r"[A-Za-z_.$][\w.$]*", value, re.A):
            raise SourceError(f"bad view '{value}' in '.loc'")
        self.view_symbols.add(value)
        return replace(row, view=value)

    def attach(self, items: list) -> list:
        """An instruction's items, after the row a `.loc` before it asked for."""
        if self.pending is None:
            return items
        row, self.pending = self.pending, None
        return [row, *items]


class PassRows:
    """The rows one layout pass placed, with the views and fragments GNU as uses."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[int, bool, Row, int]]] = {}  # section -> (addr, force..)
        self.last: dict[str, tuple[int, int, int]] = {}  # section -> (addr, view, frag)
        self.frag_start = 0
        self.frag_fix_end: dict[int, int] = {}
        self.section_ends: dict[str, int] = {}

    def add(self, row: Row, p) -> None:
        addr, frag = p.addr, p.frag
        last = self.last.get(p.section)
        if last is None or row.reset or addr > last[0]:
            view = 0
        else:
            view = last[1] + 1
        force = False
        if row.reset and last is not None:
            same_frag = frag == last[2] and addr == last[0]
            after_fix = frag != last[2] and addr == self.frag_start
            force = same_frag or (after_fix and last[0] == self.frag_fix_end.get(last[2]))
        if row.zero and view:
            p.report("view number mismatch")
        if row.view is not None:
            p.env[row.view] = Val(view)
        self.last[p.section] = (addr, view, frag)
        self.rows.setdefault(p.section, []).append((addr, force, row, view))

    def table(self, order: list[str]) -> list[list[LineRow]]:
        """The rows as sequences (sections in `order`), each with its end_sequence row."""
        out = []
        for section in order:
            found = self.rows.get(section)
            if not found:
                continue
            sequence = [LineRow(addr, **vars(row.state), view=view) for addr, _, row, view in found]
            end = self.section_ends.get(section, found[-1][0])
            sequence.append(_end_row(sequence[-1], end))
            out.append(sequence)
        return out


@dataclass
class LineProgram:
    """`.debug_line`: the header and the rows of the pass, as GNU as encodes them."""

    files: Files
    order: list[str]  # sections in the order their first rows came

    def emit(self, p) -> bytes:
        directories, files = self.files.tables()
        strings = _line_strings(p, len(directories) + len(files))
        header = _header(self.files.version, directories, files, strings)
        program = b"".join(
            _sequence(p.rows.rows[section], p.rows.section_ends.get(section))
            for section in self.order
            if p.rows.rows.get(section)
        )
        body = header + program
        return struct.pack("<I", len(body)) + body


def line_str_statement_strings(files: Files) -> list[bytes]:
    """The names GNU as adds to `.debug_line_str` for a version 5 header, in order."""
    directories, entries = files.tables()
    return [name.encode() + b"\0" for name in directories] + [
        name.encode() + b"\0" for name, _, _ in entries
    ]


def _line_strings(p, count: int) -> list[int] | None:
    if count == 0 or p.program.line_info.files.version != 5:
        return None
    return [p.lookup(f"{LINE_STR_LABEL}{i}", "").value for i in range(count)]


def _header(version, directories, files, strings) -> bytes:
    fixed = bytes((1,)) + (bytes((1,)) if version >= 4 else b"")
    fixed += bytes((1, LINE_BASE & 0xFF, LINE_RANGE, OPCODE_BASE)) + _OPCODE_LENGTHS
    if version == 5:
        tables = b"\x01\x01\x1f" + leb128(len(directories), False)
        tables += b"".join(struct.pack("<I", offset) for offset in strings[: len(directories)])
        with_md5 = any(md5 is not None for _, _, md5 in files)
        # (DW_LNCT_path, DW_FORM_line_strp), (DW_LNCT_directory_index, DW_FORM_udata),
        # (DW_LNCT_MD5, DW_FORM_data16)
        tables += b"\x03\x01\x1f\x02\x0f\x05\x1e" if with_md5 else b"\x02\x01\x1f\x02\x0f"
        tables += leb128(len(files), False)
        for (_, directory, md5), offset in zip(files, strings[len(directories) :], strict=True):
            tables += struct.pack("<I", offset) + leb128(directory, False)
            if with_md5:
                tables += md5 or bytes(16)
        start = struct.pack("<HBB", 5, 4, 0)
    else:
        tables = b"".join(name.encode() + b"\0" for name in directories) + b"\0"
        for name, directory, _ in files:
            tables += name.encode() + b"\0" + leb128(directory, False) + b"\0\0"
        tables += b"\0"
        start = struct.pack("<H", version)
    rest = fixed + tables
    return start + struct.pack("<I", len(rest)) + rest


def _sequence(found: list, end: int | None) -> bytes:
    """process_entries: one section's rows, then its end_sequence."""
    out = bytearray()
    file, line, column, isa, is_stmt = 1, 1, 0, 0, True
    last_addr = None
    for addr, force, row, _ in found:
        state = row.state
        if state.file != file:
            file = state.file
            out += bytes((_SET_FILE,)) + leb128(file, False)
        if state.column != column:
            column = state.column
            out += bytes((_SET_COLUMN,)) + leb128(column, False)
        if state.discriminator:
            operand = leb128(state.discriminator, False)
            out += b"\0" + leb128(1 + len(operand), False) + bytes((_SET_DISCRIMINATOR,)) + operand
        if state.isa != isa:
            isa = state.isa
            out += bytes((_SET_ISA,)) + leb128(isa, False)
        if state.is_stmt != is_stmt:
            is_stmt = state.is_stmt
            out.append(_NEGATE_STMT)
        for flag, opcode in ((state.basic_block, _BASIC_BLOCK), (state.prologue_end, _PROLOGUE_END),
                             (state.epilogue_begin, _EPILOGUE_BEGIN)):  # fmt: skip
            if flag:
                out.append(opcode)
        delta = state.line - line
        if last_addr is None or force:
            out += b"\0\x05" + bytes((_SET_ADDRESS,)) + struct.pack("<I", addr & 0xFFFFFFFF)
            out += _advance(delta, 0)
        else:
            out += _advance(delta, addr - last_addr)
        line, last_addr = state.line, addr
    out += _end(end - last_addr if end is not None else 0)
    return bytes(out)


def _advance(line_delta: int, addr_delta: int) -> bytes:
    """emit_inc_line_addr: a row `line_delta` lines and `addr_delta` bytes on."""
    out = bytearray()
    need_copy = False
    biased = line_delta - LINE_BASE
    if not 0 <= biased < LINE_RANGE:
        out += bytes((_ADVANCE_LINE,)) + leb128(line_delta, True)
        line_delta, biased, need_copy = 0, -LINE_BASE, True
    if line_delta == 0 and addr_delta == 0:
        return bytes(out) + bytes((_COPY,))
    biased += OPCODE_BASE
    if addr_delta < 256 + _MAX_SPECIAL_ADDR_DELTA:
        opcode = biased + addr_delta * LINE_RANGE
        if opcode <= 255:
            return bytes(out) + bytes((opcode,))
        opcode = biased + (addr_delta - _MAX_SPECIAL_ADDR_DELTA) * LINE_RANGE
        if opcode <= 255:
            return bytes(out) + bytes((_CONST_ADD_PC, opcode))
    out += bytes((_ADVANCE_PC,)) + leb128(addr_delta, False)
    return bytes(out) + bytes((_COPY if need_copy else biased,))


def _end(addr_delta: int) -> bytes:
    if addr_delta == _MAX_SPECIAL_ADDR_DELTA:
        head = bytes((_CONST_ADD_PC,))
    elif addr_delta:
        head = bytes((_ADVANCE_PC,)) + leb128(addr_delta, False)
    else:
        head = b""
    return head + b"\0\x01" + bytes((_END_SEQUENCE,))


def statement_rows(statements, chunks) -> tuple[LineRow, ...]:
    """A source without `.loc`: what `as -g` records, a row per instruction (file 1,
    the source itself) at its address, but none for an instruction on the line of
    the row before it in the source (a macro's expansion is one row); a sequence
    per code section, in the order their first rows came."""
    placed = sorted(
        (statement.order, start, statement)
        for statement, (start, chunk) in zip(statements, chunks, strict=True)
        if statement.instruction and chunk
    )
    rows: dict[str, list[LineRow]] = {}
    last = None
    for _, start, statement in placed:
        if statement.stmt.lineno != last:
            last = statement.stmt.lineno
            rows.setdefault(statement.place[0], []).append(LineRow(start, 1, last))
    ends: dict[str, int] = {}
    for statement, (start, chunk) in zip(statements, chunks, strict=True):
        if statement.place[0] in rows and chunk:
            ends[statement.place[0]] = start + len(chunk)
    out: list[LineRow] = []
    for section, found in rows.items():
        out += [*sorted(found, key=lambda row: row.addr), _end_row(found[-1], ends[section])]
    return tuple(out)


def _end_row(last: LineRow, addr: int) -> LineRow:
    """DW_LNE_end_sequence's row: the registers of the row before, at the end."""
    return last._replace(addr=addr, view=0, discriminator=0, end_sequence=True)


def line_program(rows: tuple[LineRow, ...], filename: str) -> bytes:
    """`.debug_line` (version 3) for rows of one file, as GNU as would encode them."""
    files = Files()
    files.files[1] = ("", filename, None)
    directories, entries = files.tables()
    states: dict[int, State] = {}
    program, sequence = [], []
    for row in rows:
        if row.end_sequence:
            program.append(_sequence(sequence, row.addr))
            sequence = []
        else:
            state = states.get(row.line) or states.setdefault(row.line, State(line=row.line))
            sequence.append((row.addr, False, Row(state), 0))
    body = _header(3, directories, entries, None) + b"".join(program)
    return struct.pack("<I", len(body)) + body


def empty_line_program(files: Files) -> bytes:
    """The `.debug_line` GNU as writes beside a source's own `.debug_info` when no
    `.loc` gave rows: the header (version 3) and its files, no rows."""
    if files.version == 5:
        raise SourceError("'.file 0' without '.loc' is not supported")
    directories, entries = files.tables() if files.files else ([], [])
    body = _header(3, directories, entries, None)
    return struct.pack("<I", len(body)) + body
