"""Sections: which one each statement goes to, what it is, and where ld puts it.

The image is what `ld -N -Ttext=ORIGIN` with GNU ld's default script makes of one
object, output section by output section (each aligned to the largest alignment
of its inputs, the gaps between them zeros; an output section with nothing in it
is dropped and moves nothing):
- `.text`: `.text.unlikely` (and `.text.*_unlikely`), `.text.exit`,
  `.text.startup`, `.text.hot`, `.text.sorted.*` by name, then `.text` and the
  other `.text.*`;
- `.rodata` (`.rodata.*`), `.rodata1`;
- `.data.rel.ro` (`.data.rel.ro.local*` first, then `.data.rel.ro` and
  `.data.rel.ro.*`), the linker's `.got` and `.got.plt` (PIC code, see _pic.py);
- `.data` (`.data.*`), `.data1`;
- `.bss` (`.bss.*`), then common symbols; its end aligned to 4.
Inside an output section the input sections follow in the order GNU as created
them (`.text`, `.data` and `.bss` exist from the start, the others from their
first use), each aligned to the largest alignment asked for in it; gaps in code
are no-ops.  Subsections (`.text 1`, `.subsection 2`) follow each other inside
their section.  `.note.GNU-stack` holds nothing and is dropped.

A section's attributes are GNU as's: the defaults its name gives (`.text*` is
code, `.bss*` holds no bits), plus the flags of its first `.section`; `M` with an
entity size makes it mergeable (ld's string and constant merging, _merge.py).
A flag GNU as warns about and obeys (`x` on `.data.*`, `w` on `.text.*`) or a type
against the name is refused, as are later `.section` lines that change them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ._errors import SourceError

_QUOTED = re.compile(r'"([^"]+)"')
# GNU as's input scrubber drops the blanks beside an operator (`1 << 40` is `1<<40`).
_BESIDE_OPERATOR = re.compile(r"\s*([^\w.$\s\"])\s*", re.A)
NOTE = ".note.GNU-stack"
COMMON = ".bss\x00common"
LINKER_MADE = (".got", ".got.plt")
_GROUP = "\x00G:"  # joins a section's name to its group (`"axG"`): another section

# Output sections in image order, as ld's default script has them.
TEXT, RODATA, RODATA1, DATA_REL_RO, GOT, GOT_PLT, DATA, DATA1, BSS, DROPPED = range(10)
# The DWARF sections of ld's default script, in its order: not allocated, each
# its own address space from 0, outside the flat image.
DEBUG_OUTPUTS = (
    ".debug_aranges .debug_pubnames .debug_info .debug_abbrev .debug_line .debug_frame "
    ".debug_str .debug_loc .debug_macinfo .debug_weaknames .debug_funcnames "
    ".debug_typenames .debug_varnames .debug_pubtypes .debug_ranges .debug_addr "
    ".debug_line_str .debug_loclists .debug_macro .debug_names .debug_rnglists "
    ".debug_str_offsets .debug_sup"
).split()
FIRST_DEBUG = 20
_TEXT_FIRST = (".text.unlikely", ".text.exit", ".text.startup", ".text.hot")
_SORTED = ".text.sorted."
# (output section, the flags GNU as gives the name, nobits): exact names first.
_EXACT = {
    ".rodata1": (RODATA1, "a", False),
    ".data1": (DATA1, "aw", False),
    NOTE: (DROPPED, "", False),
}
_PREFIXED = (
    (".text", TEXT, "ax", False),
    (".rodata", RODATA, "a", False),
    (".data", DATA, "aw", False),
    (".bss", BSS, "aw", True),
)
_FLAGS = "awxMSG"


@dataclass(frozen=True)
class Attributes:
    """What GNU as records of a section, as far as the image depends on it."""

    code: bool = False
    nobits: bool = False
    entsize: int = 0  # SHF_MERGE's entity size; 0: not mergeable
    strings: bool = False


def section_name(text: str) -> str:
    """The name `.section` reads: quoted, or every character up to a blank."""
    quoted = _QUOTED.fullmatch(text)
    if quoted:
        return quoted.group(1)
    name = _BESIDE_OPERATOR.sub(r"\1", text)
    if not name or any(ch.isspace() for ch in name):
        raise SourceError(f"bad section name '{text}'")
    return name


def base_name(section: str) -> str:
    """A section's name without the group it may belong to."""
    return section.split(_GROUP)[0]


def _special(name: str) -> tuple[int, str, bool, bool]:
    """(output section, GNU as's flags for the name, nobits, dotted: `.text.x` not `.text`)."""
    if debug_output(name) is not None:
        return FIRST_DEBUG, "MS", False, True  # M and S are GNU as's to allow, not to give
    if name in _EXACT:
        return (*_EXACT[name], False)
    for prefix, output, flags, nobits in _PREFIXED:
        if name == prefix or name.startswith(prefix + "."):
            return output, flags, nobits, name != prefix
    if name == COMMON:
        return BSS, "aw", True, False
    if name in LINKER_MADE:
        return (GOT if name == ".got" else GOT_PLT), "aw", False, False
    raise SourceError(f"section '{name}' is not part of the image (only .text, .rodata, "
                      ".data, .bss and their .NAME variants are, and the .debug_* sections "
                      "ld's default script names)")  # fmt: skip


@functools.cache
def debug_output(name: str) -> str | None:
    """The DWARF output section of ld's default script that takes `name`, if any."""
    if name in DEBUG_OUTPUTS:
        return name
    if name.startswith(".debug_line.") or name == ".debug_line_end":
        return ".debug_line"
    return None


def is_debug(output: int) -> bool:
    return output >= FIRST_DEBUG


def output_name(output: int) -> str:
    return DEBUG_OUTPUTS[output - FIRST_DEBUG]


@functools.lru_cache(maxsize=4096)
def output_of(section: str) -> int:
    """The output section ld puts an input section in (a DWARF one: FIRST_DEBUG on)."""
    name = base_name(section)
    debug = debug_output(name)
    if debug is not None:
        return FIRST_DEBUG + DEBUG_OUTPUTS.index(debug)
    output = _special(name)[0]
    if output == DATA and (name == ".data.rel.ro" or name.startswith(".data.rel.ro.")):
        return DATA_REL_RO
    return output


def _group(name: str, output: int) -> tuple[int, str]:
    """(input statement of the output section that takes it, the name when sorted)."""
    if output == TEXT:
        for index, first in enumerate(_TEXT_FIRST):
            if name == first or name.startswith(first + "."):
                return index, ""
        if name.startswith(".text.") and name.endswith("_unlikely"):
            return 0, ""
        if name.startswith(_SORTED):
            return len(_TEXT_FIRST), name
        return len(_TEXT_FIRST) + 1, ""
    if output == DATA_REL_RO:
        return (0 if name.startswith(".data.rel.ro.local") else 1), ""
    return (1 if name == COMMON else 0), ""


def shown(name: str) -> str:
    """A section's name in a message (common symbols have no section of their own)."""
    return "COMMON" if name == COMMON else base_name(name)


def attributes(name: str, args: list[str], constant) -> tuple[Attributes, str]:
    """A section's attributes from its name and `.section NAME, "FLAGS", @TYPE, ...`
    (args after the name), and the group name `G` asks for ("" for none)."""
    output, given, nobits, dotted = _special(name)
    flags = set() if output == FIRST_DEBUG else set(given)
    if args and args[0]:
        written = args[0].strip()
        if not (written.startswith('"') and written.endswith('"') and len(written) >= 2):
            raise SourceError(f"section flags of '{name}' must be a quoted string like \"aw\"")
        asked = written[1:-1]
        for flag in asked:
            if flag not in _FLAGS:
                raise SourceError(f"section flag '{flag}' of '{name}' is not supported")
        extra = set(asked) - set(given) - set("G" + ("MS" if dotted else ""))
        if extra and output != DROPPED:
            raise SourceError(
                f"setting incorrect section attributes for {name} "
                f"('{''.join(sorted(extra))}': GNU as warns and obeys): not supported"
            )
        flags |= set(asked)
    rest = args[1:]
    if rest and rest[0].strip()[:1] in ("@", "%"):
        kind = rest[0].strip()[1:]
        if kind not in ("progbits", "nobits") or (kind == "nobits") != nobits:
            if output != DROPPED:
                raise SourceError(f"setting incorrect section type for {name} (@{kind})")
        rest = rest[1:]
    entsize = 0
    if "M" in flags:
        if not rest or not rest[0]:
            raise SourceError(f"entity size for SHF_MERGE not specified in '{name}'")
        entsize = constant(rest[0])
        if entsize <= 0:
            raise SourceError(f"bad entity size {entsize} for SHF_MERGE in '{name}'")
        rest = rest[1:]
    group = ""
    if "G" in flags:
        if not rest or not rest[0]:
            raise SourceError(f"group name for SHF_GROUP not specified in '{name}'")
        group, rest = rest[0].strip(), rest[1:]
        if rest and rest[0].strip() == "comdat":
            rest = rest[1:]
    if rest:
        raise SourceError(f"junk after the section flags of '{name}': '{rest[0]}'")
    if entsize and "x" in flags:
        raise SourceError(f"a mergeable code section ('{name}') is not supported")
    made = Attributes("x" in flags, nobits, entsize, entsize > 0 and "S" in flags)
    return made, group


class Sections:
    """GNU as's current section and subsection, with .pushsection's stack and .previous,
    and each section's attributes and creation order."""

    def __init__(self) -> None:
        self.current = (".text", 0)
        self.previous = self.current
        self.stack: list[tuple[tuple[str, int], tuple[str, int]]] = []
        # GNU as makes .text, .data and .bss before reading the source.
        self.first_use: dict[str, int] = {".text": 0, ".data": 1, ".bss": 2}
        self.attrs: dict[str, Attributes] = {
            ".text": Attributes(code=True),
            ".data": Attributes(),
            ".bss": Attributes(nobits=True),
        }

    def switch(self, name: str, subsection: int = 0, args=None, constant=None) -> None:
        if base_name(name) in LINKER_MADE:
            raise SourceError(f"section '{name}' is made by the linker, not by the source")
        if args or name not in self.attrs:
            made, group = attributes(name, args or [], constant)
            key = name + _GROUP + group if group else name
            known = self.attrs.get(key)
            if known is not None and args and known != made:
                raise SourceError(f"ignoring changed section attributes for {name}: not supported")
            self.attrs.setdefault(key, made)
            name = key
        self.first_use.setdefault(name, len(self.first_use))
        self.previous, self.current = self.current, (name, subsection)

    def directive(self, word: str, args: list[str], constant) -> None:
        """`.text [N]`, `.data [N]`, `.bss`, `.section`, `.pushsection`, `.popsection`,
        `.previous`, `.subsection N`; `constant(text)` evaluates a number."""
        most = {".text": 1, ".data": 1, ".bss": 1, ".subsection": 1, ".popsection": 0}
        if len(args) > most.get(word, 99) or (word == ".previous" and args):
            raise SourceError(f"junk after '{word}{' ' + args[0] if args else ''}'")
        if word in (".text", ".data", ".bss"):
            self.switch(word, constant(args[0]) if args and args[0] else 0)
        elif word in (".section", ".pushsection"):
            if not args or not args[0]:
                raise SourceError(f"missing section name in '{word}'")
            name, rest = section_name(args[0]), args[1:]
            subsection = 0
            if word == ".pushsection":
                self.stack.append((self.current, self.previous))
                if rest and rest[0] and rest[0][0] not in '"@%':
                    subsection, rest = constant(rest[0]), rest[1:]
            self.switch(name, subsection, rest, constant)
        elif word == ".popsection":
            if not self.stack:
                raise SourceError(".popsection without corresponding .pushsection")
            self.current, self.previous = self.stack.pop()
        elif word == ".previous":
            self.current, self.previous = self.previous, self.current
        elif word == ".subsection":
            if not args:
                raise SourceError("'.subsection' needs a number")
            name = self.current[0]
            self.first_use.setdefault(name, len(self.first_use))
            self.previous, self.current = self.current, (name, constant(args[0]))

    def attributes_of(self, name: str) -> Attributes:
        return self.attrs.get(name) or Attributes(nobits=output_of(name) == BSS)

    def order_key(self, place: tuple[str, int]) -> tuple:
        name, subsection = place
        output = output_of(name)
        group, sort_name = _group(base_name(name), output)
        return output, group, sort_name, self.first_use.get(name, len(self.first_use)), subsection
