"""A small ELF32 (i386, little-endian) writer: an executable with loaded
sections, sections that are not loaded (the DWARF ones: flags 0) and a
symbol table, enough for gdb to name and disassemble code and read its
debugging information (the System V ABI's ELF format; i386 supplement for
EM_386).

Layout: ELF header, program headers (one PT_LOAD per allocated section
with bytes), the section contents, .symtab, .strtab, .shstrtab, then the
section headers.

This module imports nothing of the project.
"""

import struct
from dataclasses import dataclass

EM_386, ET_EXEC, EV_CURRENT = 3, 2, 1
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 1, 2, 3, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
PT_LOAD, PF_X, PF_W, PF_R = 1, 1, 2, 4
STB_LOCAL, STB_GLOBAL = 0, 1
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION = 0, 1, 2, 3
SHN_ABS = 0xFFF1
EHDR, PHDR, SHDR, SYM = 52, 32, 40, 16


@dataclass(frozen=True)
class Section:
    name: str
    addr: int
    data: bytes | None  # None: NOBITS (an address range with no bytes in the file)
    size: int
    flags: int  # 0: not loaded (addr 0), as ld lays out .debug_* sections


def debug_section(name: str, data: bytes) -> Section:
    return Section(name, 0, data, len(data), 0)


@dataclass(frozen=True)
class ElfSymbol:
    name: str
    value: int
    size: int
    type: int  # STT_FUNC, STT_OBJECT, STT_NOTYPE


class _Strings:
    def __init__(self):
        self.data = bytearray(b"\0")
        self.index: dict[str, int] = {}

    def add(self, name: str) -> int:
        if name not in self.index:
            self.index[name] = len(self.data)
            self.data += name.encode() + b"\0"
        return self.index[name]


def write_elf(sections: list[Section], symbols: list[ElfSymbol], entry: int = 0) -> bytes:
    """The file's bytes.  Each symbol belongs to the section holding its value
    (SHN_ABS if none)."""
    loaded = [s for s in sections if s.data is not None and s.flags & SHF_ALLOC]
    offset = EHDR + PHDR * len(loaded)
    offsets = {}
    for s in sections:
        offset = (offset + 15) & ~15
        offsets[s.name] = offset
        offset += len(s.data) if s.data is not None else 0
    strtab = _Strings()
    symtab = bytearray(SYM)  # entry 0: the null symbol
    for sym in sorted(symbols, key=lambda s: (s.value, s.name)):
        shndx = next(
            (
                i + 1
                for i, s in enumerate(sections)
                if s.flags & SHF_ALLOC and s.addr <= sym.value < s.addr + s.size
            ),
            SHN_ABS,
        )
        info = (STB_GLOBAL << 4) | sym.type
        symtab += struct.pack("<IIIBBH", strtab.add(sym.name), sym.value, sym.size, info, 0, shndx)
    shstr = _Strings()
    tail = [
        (".symtab", SHT_SYMTAB, bytes(symtab)),
        (".strtab", SHT_STRTAB, bytes(strtab.data)),
        (".shstrtab", SHT_STRTAB, None),  # filled in below: it names itself
    ]
    headers = [bytes(SHDR)]
    for s in sections:
        kind = SHT_NOBITS if s.data is None else SHT_PROGBITS
        headers.append(_shdr(shstr.add(s.name), kind, s.flags, s.addr, offsets[s.name], s.size))
    body = bytearray()
    cursor = offset
    symtab_index = len(sections) + 1
    for name, kind, data in tail:
        name_at = shstr.add(name)
        if data is None:
            data = bytes(shstr.data)
        cursor = (cursor + 3) & ~3
        body += bytes(cursor - offset - len(body)) + data
        link = symtab_index + 1 if kind == SHT_SYMTAB else 0
        info = 1 if kind == SHT_SYMTAB else 0  # one local symbol: the null one
        entsize = SYM if kind == SHT_SYMTAB else 0
        headers.append(_shdr(name_at, kind, 0, 0, cursor, len(data), link, info, 4, entsize))
        cursor += len(data)
    shoff = (cursor + 3) & ~3
    out = bytearray()
    out += _ehdr(entry, len(loaded), shoff, len(headers), len(headers) - 1)
    for s in loaded:
        flags = PF_R | (PF_X if s.flags & SHF_EXECINSTR else 0)
        flags |= PF_W if s.flags & SHF_WRITE else 0
        out += struct.pack(
            "<IIIIIIII", PT_LOAD, offsets[s.name], s.addr, s.addr, len(s.data), s.size, flags, 16
        )
    for s in sections:
        if s.data is not None:
            out += bytes(offsets[s.name] - len(out)) + s.data
    out += bytes(offset - len(out)) + body
    out += bytes(shoff - len(out)) + b"".join(headers)
    return bytes(out)


def _ehdr(entry: int, phnum: int, shoff: int, shnum: int, shstrndx: int) -> bytes:
    ident = b"\x7fELF" + bytes([1, 1, EV_CURRENT, 0]) + bytes(8)  # ELFCLASS32, LSB, SYSV
    return ident + struct.pack(
        "<HHIIIIIHHHHHH",
        ET_EXEC, EM_386, EV_CURRENT, entry, EHDR if phnum else 0, shoff, 0,
        EHDR, PHDR, phnum, SHDR, shnum, shstrndx,
    )  # fmt: skip


def _shdr(name, kind, flags, addr, offset, size, link=0, info=0, align=16, entsize=0) -> bytes:
    fields = (name, kind, flags, addr, offset, size, link, info, align, entsize)
    return struct.pack("<10I", *fields)
