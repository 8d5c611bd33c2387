"""ld's merging of mergeable sections (SHF_MERGE, flags `M`), as bfd/merge.c does it.

`.section .rodata.str1.1,"aMS",@progbits,1` holds strings ld may share: in a
link, a string that repeats is kept once and a string that ends another
("found" in "not found") becomes the end of the longer one; `"aM"` sections of
fixed-size entries (`.rodata.cst4`) keep each distinct entry once.  A label in
such a section then names where ld put its entry, which may be inside another
input section of the same kind.

Sections are merged together when they share their output section, kind
(strings or not), entity size and alignment, in the order GNU as created them.
Each input section is cut into entries: a string with its terminator (the
zeros after it are padding), or one entity; an entry's alignment is the
largest power of two dividing its offset, capped at the section's.  An entry
seen before is kept once, in the section where it was first seen, unless it
comes again more aligned (then the aligned copy wins).  Strings are sorted by
their reversed text and each one that ends the next longer one is dropped
into it, where alignments allow.  A section left with nothing is dropped.

As ld does, a section is merged only if its size is a multiple of the entity
size and the entity size fits its alignment.  Here the contents must be known
while reading (bytes, numbers, alignments): ld would not merge a section with
relocations, and GNU as would resolve a difference of two labels in it before
ld moves them, so both are refused by name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from ._errors import SourceError
from ._items import Align, Data, Fill, Label, Raw, Skip


@dataclass
class Entry:
    """One string or entity, as ld's hash table keeps it."""

    data: bytes
    alignment: int
    section: str
    index: int = 0
    suffix_of: Entry | None = field(default=None, repr=False)


@dataclass
class Input:
    """A mergeable input section's contents as GNU as wrote them."""

    name: str
    data: bytes
    labels: list[tuple[int, str]]
    alignment: int
    entsize: int
    strings: bool
    table: dict[bytes, Entry] = field(default_factory=dict)  # the group's, by text
    order: list[Entry] = field(default_factory=list)  # the group's, as first seen
    kept: list[Entry] = field(default_factory=list)
    size: int = 0


def contents(name: str, statements: list) -> tuple[bytes, list[tuple[int, str]]]:
    """The bytes and label offsets of a mergeable section (its statements in order)."""
    data, labels = bytearray(), []
    for statement in statements:
        for item in statement.items:
            if isinstance(item, Label):
                labels.append((len(data), item.name))
            elif isinstance(item, Raw):
                data += item.data
            elif isinstance(item, Data) and _constant(*item.exprs):
                data += _numbers(item)
            elif isinstance(item, Align) and _constant(item.alignment, item.fill, item.maximum):
                data += _padding(item, len(data))
            elif isinstance(item, Skip | Fill) and _constant(*_operands(item)):
                data += _filled(item)
            else:
                raise SourceError(
                    f"only bytes, numbers and alignments are supported in mergeable section "
                    f"'{name}' (ld does not merge a section with relocations)"
                )
    return bytes(data), labels


def _numbers(item: Data) -> bytes:
    out = bytearray()
    for value in item.exprs:
        bits = 8 * item.width
        if bits < 32 and not -(1 << bits - 1) <= value < 1 << bits:
            raise SourceError(f"value {value:#x} does not fit in {bits} bits")
        out += (value & ((1 << bits) - 1)).to_bytes(item.width, "little")
    return bytes(out)


def _padding(item: Align, size: int) -> bytes:
    boundary = 1 << item.alignment if item.power else max(item.alignment, 1)
    pad = -size % boundary
    if item.maximum and pad > item.maximum:
        return b""
    pattern = ((item.fill or 0) & ((1 << 8 * item.width) - 1)).to_bytes(item.width, "little")
    return pattern * (pad // item.width) + bytes(pad % item.width)


def _operands(item) -> tuple:
    if isinstance(item, Skip):
        return item.count, item.fill
    return item.repeat, item.size, item.value


def _constant(*nodes) -> bool:
    return all(node is None or type(node) is int for node in nodes)


def _filled(item) -> bytes:
    if isinstance(item, Skip):
        return bytes([(item.fill or 0) & 0xFF]) * max(item.count, 0)
    size = 1 if item.size is None else min(item.size, 8)
    if item.repeat <= 0 or size <= 0:
        return b""
    return ((item.value or 0) & 0xFFFFFFFF).to_bytes(8, "little")[:size] * item.repeat


def mergeable(section: Input) -> bool:
    """_bfd_add_merge_section's conditions for taking a section in."""
    size, entsize, align = len(section.data), section.entsize, section.alignment
    if size % entsize:
        raise SourceError(
            f"mergeable section '{section.name}' holds {size} bytes, not a multiple of its "
            f"entity size {entsize}: not supported"
        )
    if not size:
        return False
    if entsize < align and (entsize & (entsize - 1) or not section.strings):
        return False
    return not (entsize > align and entsize % align)


def merge(sections: list[Input]) -> None:
    """Merge one group (same output section, kind, entity size and alignment):
    fills each section's `kept` entries, with their `index`, and its new `size`."""
    table: dict[bytes, Entry] = {}
    order: list[Entry] = []
    for section in sections:
        section.table, section.order = table, order
        for data, alignment in _cut(section):
            entry = table.get(data)
            if entry is None or entry.alignment < alignment:
                if entry is not None:
                    entry.alignment = 0  # the less aligned copy gives way
                entry = table[data] = Entry(data, alignment, section.name)
                order.append(entry)
    live = [entry for entry in order if entry.alignment]
    if sections[0].strings:
        _merge_suffixes(live, sections[0].entsize)
    _place(sections, [entry for entry in live if entry.alignment], order[-1].section)


def _cut(section: Input):
    """(bytes, alignment) of each entry of a section, as record_section reads it."""
    data, unit = section.data, section.entsize
    mask = section.alignment - 1
    if not section.strings:
        for offset in range(0, len(data), unit):
            yield data[offset : offset + unit], 1
        return
    zero = bytes(unit)
    data += zero  # ld ends an unterminated last string for it
    offset, end, padded = 0, len(section.data), False
    while offset < end:
        low = offset & -offset
        alignment = mask + 1 if not offset or low > mask else low
        text = _text(data, offset, unit)
        yield text, alignment
        offset += len(text)
        while offset < end and data[offset : offset + unit] == zero:
            if not padded and not offset & mask:
                padded = True
                yield zero, mask + 1
            offset += unit


def _text(data: bytes, offset: int, unit: int) -> bytes:
    """The string at `offset` with its terminator (`data` ends in one)."""
    stop, zero = offset, bytes(unit)
    while data[stop : stop + unit] != zero:
        stop += unit
    return data[offset : stop + unit]


def _merge_suffixes(live: list[Entry], unit: int) -> None:
    """merge_strings: sorted by reversed text, each string that ends the last kept
    longer one (and whose alignment allows) becomes part of it."""
    alignments = {entry.alignment for entry in live}
    aligned = len(alignments) == 1 and alignments.pop() > unit
    ordered = sorted(live, key=functools.cmp_to_key(_reverse_compare(aligned, unit)))
    keeper = ordered[-1]
    for entry in reversed(ordered[:-1]):
        if (
            keeper.alignment >= entry.alignment
            and not (len(keeper.data) - len(entry.data)) & (entry.alignment - 1)
            and len(keeper.data) > len(entry.data)
            and keeper.data.endswith(entry.data)
        ):
            entry.suffix_of, entry.alignment = keeper, 0
        else:
            keeper = entry


def _reverse_compare(aligned: bool, unit: int):
    """strrevcmp (and strrevcmp_align): the texts without their terminators, compared
    from their last byte back; with one alignment above the unit for all, first by
    their lengths' remainder modulo it."""

    def compare(a: Entry, b: Entry) -> int:
        left, right = a.data[:-unit], b.data[:-unit]
        if aligned:
            tail = (len(left) & (a.alignment - 1)) - (len(right) & (a.alignment - 1))
            if tail:
                return tail
        for x, y in zip(reversed(left), reversed(right), strict=False):
            if x != y:
                return x - y
        return len(left) - len(right)

    return compare


def _place(sections: list[Input], kept: list[Entry], last: str) -> None:
    """Offsets of the kept entries, each in the section it was first seen in.  If
    every input section's size was a multiple of its alignment, the section of the
    last entry seen is padded to it too."""
    by_name = {section.name: section for section in sections}
    for entry in kept:
        section = by_name[entry.section]
        if section.kept:
            section.size = (section.size + entry.alignment - 1) & -entry.alignment
        entry.index = section.size
        section.size += len(entry.data)
        section.kept.append(entry)
    final = by_name[last]
    if all(len(section.data) % section.alignment == 0 for section in sections):
        final.size = (final.size + final.alignment - 1) & -final.alignment


def place_of(section: Input, offset: int) -> tuple[str, int]:
    """Where ld puts the byte at `offset` of an input section (_bfd_merged_section_offset)."""
    if offset >= len(section.data):
        if not section.kept:
            raise SourceError(f"a label at the end of mergeable section '{section.name}', "
                              "which ld drops, is not supported")  # fmt: skip
        return section.name, section.size
    unit = section.entsize
    start = offset - offset % unit
    if section.strings:
        while start >= unit and section.data[start - unit : start] != bytes(unit):
            start -= unit
        text = _text(section.data + bytes(unit), start, unit)
    else:
        text = section.data[start : start + unit]
    entry = section.table.get(text)
    if entry is None:
        # Padding that holds no empty string: ld answers from the group's first entry.
        first = next(entry for entry in section.order if entry.alignment)
        start = (offset // unit + 1) * unit - len(first.data)
        return _located(first, offset - start)
    return _located(entry, offset - start)


def _located(entry: Entry, within: int) -> tuple[str, int]:
    """Where a byte `within` an entry went: into its own place, or into the string it
    ends."""
    if entry.suffix_of is not None:
        keeper = entry.suffix_of
        return keeper.section, keeper.index + len(keeper.data) - len(entry.data) + within
    return entry.section, entry.index + within


def emitted(section: Input) -> bytes:
    """A merged section's bytes: its kept entries, each at its index, zeros between."""
    out = bytearray()
    for entry in section.kept:
        out += bytes(entry.index - len(out)) + entry.data
    return bytes(out) + bytes(section.size - len(out))
