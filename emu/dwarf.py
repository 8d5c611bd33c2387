"""A small DWARF 4 writer: debugging information entries (DIEs) to
``.debug_info``, ``.debug_abbrev`` and ``.debug_str`` (DWARF 4, 32-bit
format, 4-byte addresses: what gcc -m32 -gdwarf-4 emits).

No Python library writes DWARF (pyelftools only reads it); pyelftools and
the real gdb are this writer's test oracles.

A DIE is a tag, a list of ``(attribute, form, value)`` and its children.
A value of form ``ref4`` is another Die (of the same unit), ``strp`` a str
(kept once in .debug_str), ``exprloc`` the expression's bytes, ``addr``
and ``data*``/``udata``/``sdata`` an int, ``flag_present`` None.

``DebugInfo`` gathers units and writes them with one abbreviation table.
Another producer's units (a compiled C file's own DWARF) can follow ours
in the same sections: ``DebugInfo.sections()`` returns each section's bytes
and every offset into them (.debug_str, .debug_abbrev) of a unit appended
after them is its own offset plus the length of ours.
"""

import struct

from asm._items import leb128  # the assembler's LEB128: one encoder

# Tags (DWARF 4, 7.5.3).
TAG = {
    "array_type": 0x01, "formal_parameter": 0x05, "member": 0x0D, "pointer_type": 0x0F,
    "compile_unit": 0x11, "structure_type": 0x13, "subroutine_type": 0x15, "typedef": 0x16,
    "union_type": 0x17, "subrange_type": 0x21, "base_type": 0x24, "subprogram": 0x2E,
    "variable": 0x34,
}  # fmt: skip
# Attributes (7.5.4).
AT = {
    "location": 0x02, "name": 0x03, "byte_size": 0x0B, "stmt_list": 0x10, "low_pc": 0x11,
    "high_pc": 0x12, "language": 0x13, "comp_dir": 0x1B, "producer": 0x25, "prototyped": 0x27,
    "upper_bound": 0x2F, "data_member_location": 0x38, "decl_file": 0x3A, "decl_line": 0x3B,
    "ranges": 0x55,
    "declaration": 0x3C, "encoding": 0x3E, "external": 0x3F, "frame_base": 0x40, "type": 0x49,
}  # fmt: skip
# Forms (7.5.6).
FORM = {
    "addr": 0x01, "data2": 0x05, "data4": 0x06, "string": 0x08, "data1": 0x0B, "sdata": 0x0D,
    "strp": 0x0E, "udata": 0x0F, "ref4": 0x13, "sec_offset": 0x17, "exprloc": 0x18,
    "flag_present": 0x19,
}  # fmt: skip
# Base type encodings (7.8), languages (7.12), location operations (7.7.1).
ATE = {"boolean": 0x02, "signed": 0x05, "signed_char": 0x06, "unsigned": 0x07,
       "unsigned_char": 0x08}  # fmt: skip
LANG_C89, LANG_MIPS_ASSEMBLER = 0x0001, 0x8001
OP_ADDR, OP_CALL_FRAME_CFA = 0x03, 0x9C
VERSION, ADDRESS_SIZE = 4, 4


def uleb128(value: int) -> bytes:
    return leb128(value, False)


def sleb128(value: int) -> bytes:
    return leb128(value, True)


def addr_expr(addr: int) -> bytes:
    """DW_OP_addr ADDR: the location of a static variable."""
    return bytes([OP_ADDR]) + struct.pack("<I", addr)


class Die:
    __slots__ = ("tag", "attrs", "children", "offset")

    def __init__(self, tag: str, attrs=(), children=None):
        self.tag, self.attrs = tag, list(attrs)
        self.children = list(children or [])
        self.offset = None

    def add(self, child: "Die") -> "Die":
        self.children.append(child)
        return child

    def __repr__(self):
        return f"<Die {self.tag} {dict((a, v) for a, _, v in self.attrs).get('name', '')}>"


class _Strings:
    def __init__(self):
        self.data = bytearray()
        self.index: dict[str, int] = {}

    def add(self, text: str) -> int:
        if text not in self.index:
            self.index[text] = len(self.data)
            self.data += text.encode() + b"\0"
        return self.index[text]


_FIXED = {"addr": 4, "data1": 1, "data2": 2, "data4": 4, "strp": 4, "ref4": 4,
          "sec_offset": 4, "flag_present": 0}  # fmt: skip
_PACK = {"addr": "<I", "data1": "<B", "data2": "<H", "data4": "<I", "strp": "<I",
         "ref4": "<I", "sec_offset": "<I"}  # fmt: skip


class DebugInfo:
    """Units of DIEs, written as .debug_info, .debug_abbrev and .debug_str."""

    def __init__(self):
        self.units: list[Die] = []

    def add_unit(self, root: Die) -> Die:
        self.units.append(root)
        return root

    def sections(self) -> dict[str, bytes]:
        abbrevs: dict[tuple, int] = {}
        strings = _Strings()
        info = bytearray()
        for root in self.units:
            info += _unit(root, abbrevs, strings)
        return {
            ".debug_info": bytes(info),
            ".debug_abbrev": _abbrev_table(abbrevs),
            ".debug_str": bytes(strings.data),
        }


def _shape(die: Die) -> tuple:
    return die.tag, bool(die.children), tuple((a, f) for a, f, _ in die.attrs)


def _unit(root: Die, abbrevs: dict, strings: _Strings) -> bytes:
    header = 11  # unit_length, version, debug_abbrev_offset, address_size
    end = _place(root, header, abbrevs)
    body = bytearray()
    _emit(root, body, abbrevs, strings)
    assert header + len(body) == end, "DIE sizes and bytes disagree"
    return struct.pack("<IHIB", end - 4, VERSION, 0, ADDRESS_SIZE) + body


def _place(die: Die, offset: int, abbrevs: dict) -> int:
    """Give ``die`` and its subtree their unit offsets; returns the offset after it."""
    die.offset = offset
    code = abbrevs.setdefault(_shape(die), len(abbrevs) + 1)
    offset += len(uleb128(code))
    for _, form, value in die.attrs:
        offset += _value_size(form, value)
    if die.children:
        for child in die.children:
            offset = _place(child, offset, abbrevs)
        offset += 1  # the null entry that ends the children
    return offset


def _value_size(form: str, value) -> int:
    if form in _FIXED:
        return _FIXED[form]
    return len(_variable(form, value))


def _variable(form: str, value) -> bytes:
    if form == "udata":
        return uleb128(value)
    if form == "sdata":
        return sleb128(value)
    if form == "exprloc":
        return uleb128(len(value)) + value
    if form == "string":
        return value.encode() + b"\0"
    raise ValueError(f"unknown form {form!r}")


def _emit(die: Die, out: bytearray, abbrevs: dict, strings: _Strings) -> None:
    out += uleb128(abbrevs[_shape(die)])
    for _, form, value in die.attrs:
        if form == "flag_present":
            continue
        if form == "ref4":
            value = value.offset
        elif form == "strp":
            value = strings.add(value)
        if form in _PACK:
            out += struct.pack(_PACK[form], value)
        else:
            out += _variable(form, value)
    if die.children:
        for child in die.children:
            _emit(child, out, abbrevs, strings)
        out.append(0)


def _abbrev_table(abbrevs: dict) -> bytes:
    out = bytearray()
    for (tag, has_children, attrs), code in abbrevs.items():
        out += uleb128(code) + uleb128(TAG[tag]) + bytes([1 if has_children else 0])
        for attr, form in attrs:
            out += uleb128(AT[attr]) + uleb128(FORM[form])
        out += b"\0\0"
    return bytes(out + b"\0")
