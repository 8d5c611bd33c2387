"""The DWARF gcc -g wrote for a C file, read with pyelftools from the assembled
image's own debug sections (``Image.debug``, laid out as ld lays out one
object's): its line table (an address's file and line, a line's addresses),
its functions and variables with their declared lines.

``cdebug(image)`` is made once per image (a test machine loads the same image
for every test) and reads each part of the DWARF only when first asked.
"""

import bisect
import io
import os
import weakref
from typing import NamedTuple

from elftools.dwarf.dwarfinfo import DebugSectionDescriptor, DwarfConfig, DWARFInfo

from asm.assembler import AsmError, read_source

# pyelftools' DWARFInfo argument for each section it reads, in its order.
_SECTIONS = (
    "debug_info", "debug_aranges", "debug_abbrev", "debug_frame", "eh_frame", "debug_str",
    "debug_loc", "debug_ranges", "debug_line", "debug_pubtypes", "debug_pubnames",
    "debug_addr", "debug_str_offsets", "debug_line_str", "debug_loclists",
    "debug_rnglists", "debug_sup", "gnu_debugaltlink", "debug_types",
)  # fmt: skip
_CONFIG = DwarfConfig(little_endian=True, machine_arch="x86", default_address_size=4)


class SourceRow(NamedTuple):
    """Code from ``addr`` for ``size`` bytes came from ``file``:``lineno`` (``text``)."""

    addr: int
    size: int
    lineno: int
    text: str
    file: str


class Function(NamedTuple):
    name: str
    low: int
    high: int
    file: str
    line: int
    die: object


def has_c_debug(image) -> bool:
    """Whether the image carries a compiler's DWARF (a C file's)."""
    return ".debug_info" in image.debug and bool(image.debug[".debug_info"])


def dwarf_info(debug) -> DWARFInfo:
    """pyelftools' reader over DWARF sections given as name -> bytes."""
    sections = []
    for name in _SECTIONS:
        data = debug.get("." + name) if "." + name in debug else None
        sections.append(
            None if data is None else
            DebugSectionDescriptor(io.BytesIO(data), "." + name, 0, len(data), 0)
        )  # fmt: skip
    return DWARFInfo(_CONFIG, *sections)


_CACHE: dict[int, "CDebug"] = {}


def cdebug(image) -> "CDebug | None":
    """The C debug information of ``image`` (None for one without), made once."""
    found = _CACHE.get(id(image))
    if found is None and has_c_debug(image):
        found = _CACHE[id(image)] = CDebug(image)
        weakref.finalize(image, _CACHE.pop, id(image), None)
    return found


def declaration_line(image, name: str) -> tuple[str, int] | None:
    """(file, line) where ``image``'s C source declares the variable or function ``name``."""
    info = cdebug(image)
    return None if info is None else info.declaration(name)


class CDebug:
    def __init__(self, image):
        self.image = image
        self.dwarf = dwarf_info(image.debug)
        self._rows: list[SourceRow] | None = None
        self._starts: list[int] = []
        self._functions: list[Function] | None = None
        self._texts: dict[str, list[str]] = {}

    # -- files and lines ---------------------------------------------------------

    def units(self):
        return list(self.dwarf.iter_CUs())

    def file_names(self, unit) -> dict[int, str]:
        """The line table's file numbers and names, as a reader should open them:
        relative to the compile's folder when they were given so."""
        program = self.dwarf.line_program_for_CU(unit)
        if program is None:
            return {}
        header = program.header
        version = header["version"]
        dirs = [_text(d) for d in header["include_directory"]]
        names = {}
        for i, entry in enumerate(header["file_entry"]):
            number = i if version >= 5 else i + 1
            name, index = _text(entry.name), entry.dir_index
            if index and not os.path.isabs(name):
                folder = dirs[index] if version >= 5 else dirs[index - 1]
                name = os.path.join(folder, name)
            names[number] = name
        return names

    def rows(self) -> list[SourceRow]:
        """The line table as ranges of code, lowest address first; a row with no
        code (several at one address, gcc's views) gives way to the last one."""
        if self._rows is None:
            files = {}
            for unit in self.units():
                files.update(self.file_names(unit))
            out = []
            table = self.image.line_rows
            for row, following in zip(table, table[1:], strict=False):
                if row.end_sequence or following.addr <= row.addr:
                    continue
                name = files.get(row.file, self.image.filename)
                out.append(SourceRow(row.addr, following.addr - row.addr, row.line,
                                     self.text(name, row.line), name))  # fmt: skip
            self._rows = sorted(out, key=lambda r: r.addr)
            self._starts = [r.addr for r in self._rows]
        return self._rows

    def line_at(self, addr: int) -> SourceRow | None:
        rows = self.rows()
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0 or addr >= rows[i].addr + rows[i].size:
            return None
        return rows[i]

    def text(self, file: str, line: int) -> str:
        """Line ``line`` of ``file`` as it reads now ("" if it cannot be read)."""
        lines = self._texts.get(file)
        if lines is None:
            try:
                lines = read_source(file).split("\n")
            except AsmError:
                lines = []
            self._texts[file] = lines
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    # -- functions and declarations -----------------------------------------------

    def functions(self) -> list[Function]:
        """Every function with code, lowest address first."""
        if self._functions is None:
            found = []
            for unit in self.units():
                files = self.file_names(unit)
                for die in unit.iter_DIEs():
                    if die.tag == "DW_TAG_subprogram" and "DW_AT_low_pc" in die.attributes:
                        low = die.attributes["DW_AT_low_pc"].value
                        high = _high_pc(die, low)
                        file, line = _declared(die, files)
                        found.append(Function(_name(die), low, high, file, line, die))
            self._functions = sorted(found, key=lambda f: f.low)
        return self._functions

    def function_at(self, addr: int) -> Function | None:
        for function in self.functions():
            if function.low <= addr < function.high:
                return function
        return None

    def declaration(self, name: str) -> tuple[str, int] | None:
        for unit in self.units():
            files = self.file_names(unit)
            for die in unit.iter_DIEs():
                if die.tag in ("DW_TAG_variable", "DW_TAG_subprogram") and _name(die) == name:
                    file, line = _declared(die, files)
                    if line:
                        return file, line
        return None


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _name(die) -> str:
    attr = die.attributes.get("DW_AT_name")
    return _text(attr.value) if attr is not None else ""


def _high_pc(die, low: int) -> int:
    attr = die.attributes["DW_AT_high_pc"]
    return attr.value if attr.form == "DW_FORM_addr" else low + attr.value


def _declared(die, files: dict[int, str]) -> tuple[str, int]:
    attrs = die.attributes
    if "DW_AT_specification" in attrs or "DW_AT_abstract_origin" in attrs:
        key = "DW_AT_specification" if "DW_AT_specification" in attrs else "DW_AT_abstract_origin"
        die = die.get_DIE_from_attribute(key)
        attrs = die.attributes
    file = files.get(attrs["DW_AT_decl_file"].value, "") if "DW_AT_decl_file" in attrs else ""
    line = attrs["DW_AT_decl_line"].value if "DW_AT_decl_line" in attrs else 0
    return file, line
