"""Sections: which one each statement goes to, and the order they take in the image.

The image is what `ld -Ttext ORIGIN` with GNU ld's default script makes of one
object: `.text` (with `.text.*` in order of first use, `.text.unlikely`,
`.text.exit`, `.text.startup` and `.text.hot` first), then `.rodata*`, `.data*`,
the linker's `.got` and `.got.plt` (PIC code, see _pic.py), `.bss*` and common
symbols; each input section aligned to the largest alignment requested in it.
Subsections (`.text 1`, `.subsection 2`) follow each other inside their section.
`.note.GNU-stack` holds nothing and is dropped.
"""

from __future__ import annotations

import re

from ._errors import SourceError

_TEXT_FIRST = (".text.unlikely", ".text.exit", ".text.startup", ".text.hot")
_QUOTED = re.compile(r'"([^"]+)"')
# GNU as's input scrubber drops the blanks beside an operator (`1 << 40` is `1<<40`).
_BESIDE_OPERATOR = re.compile(r"\s*([^\w.$\s\"])\s*", re.A)
NOTE = ".note.GNU-stack"
COMMON = ".bss\x00common"
LINKER_MADE = {".got": 3, ".got.plt": 4}


def section_name(text: str) -> str:
    """The name `.section` reads: quoted, or every character up to a blank."""
    quoted = _QUOTED.fullmatch(text)
    if quoted:
        return quoted.group(1)
    name = _BESIDE_OPERATOR.sub(r"\1", text)
    if not name or any(ch.isspace() for ch in name):
        raise SourceError(f"bad section name '{text}'")
    return name


def rank(name: str) -> tuple[int, int]:
    """(output section, position among the text groups GNU ld places first)."""
    if name == ".text" or name.startswith(".text."):
        for index, first in enumerate(_TEXT_FIRST):
            if name == first or name.startswith(first + "."):
                return 0, index
        return 0, len(_TEXT_FIRST)
    if name == ".rodata" or name.startswith(".rodata."):
        return 1, 0
    if name == ".data" or name.startswith((".data.", ".data1")):
        return 2, 0
    if name in LINKER_MADE:
        return LINKER_MADE[name], 0
    if name == ".bss" or name.startswith(".bss."):
        return 5, 0
    if name == COMMON:
        return 5, 1
    if name == NOTE:
        return 6, 0
    raise SourceError(f"section '{name}' is not part of the image (only .text, .rodata, "
                      ".data, .bss and their .NAME variants are)")  # fmt: skip


def shown(name: str) -> str:
    """A section's name in a message (common symbols have no section of their own)."""
    return "COMMON" if name == COMMON else name


def is_bss(name: str) -> bool:
    return rank(name)[0] == 5


class Sections:
    """GNU as's current section and subsection, with .pushsection's stack and .previous."""

    def __init__(self) -> None:
        self.current = (".text", 0)
        self.previous = self.current
        self.stack: list[tuple[tuple[str, int], tuple[str, int]]] = []
        self.first_use: dict[str, int] = {".text": 0}

    def switch(self, name: str, subsection: int = 0) -> None:
        if name in LINKER_MADE:
            raise SourceError(f"section '{name}' is made by the linker, not by the source")
        rank(name)  # refuses what the image cannot hold
        self.first_use.setdefault(name, len(self.first_use))
        self.previous, self.current = self.current, (name, subsection)

    def directive(self, word: str, args: list[str], constant) -> None:
        """`.text [N]`, `.data [N]`, `.bss`, `.section`, `.pushsection`, `.popsection`,
        `.previous`, `.subsection N`; `constant(text)` evaluates a subsection number."""
        most = {".text": 1, ".data": 1, ".bss": 1, ".subsection": 1, ".popsection": 0}
        if len(args) > most.get(word, 99) or (word == ".previous" and args):
            raise SourceError(f"junk after '{word}{' ' + args[0] if args else ''}'")
        if word in (".text", ".data", ".bss"):
            self.switch(word, constant(args[0]) if args and args[0] else 0)
        elif word in (".section", ".pushsection"):
            if not args or not args[0]:
                raise SourceError(f"missing section name in '{word}'")
            name = section_name(args[0])
            subsection = 0
            if word == ".pushsection":
                self.stack.append((self.current, self.previous))
                if len(args) > 1 and args[1] and args[1][0] not in '"@%':
                    subsection = constant(args[1])
            self.switch(name, subsection)
        elif word == ".popsection":
            if not self.stack:
                raise SourceError(".popsection without corresponding .pushsection")
            self.current, self.previous = self.stack.pop()
        elif word == ".previous":
            self.current, self.previous = self.previous, self.current
        elif word == ".subsection":
            if not args:
                raise SourceError("'.subsection' needs a number")
            self.switch(self.current[0], constant(args[0]))

    def order_key(self, place: tuple[str, int]) -> tuple:
        name, subsection = place
        return (*rank(name), self.first_use.get(name, len(self.first_use)), subsection)
