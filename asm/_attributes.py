"""Directives that put no bytes in the image: symbol attributes, debug and unwind notes.

GNU as records these in the object file (symbol table, .eh_frame, .debug_line,
.comment), none of which is part of the flat image. They are still checked the way
GNU as checks them, so a source GNU as refuses is refused here too.
"""

from __future__ import annotations

import re

from ._errors import SourceError
from ._source import SYMBOL

_TYPES = frozenset(
    "function gnu_indirect_function gnu_unique_object object tls_object common notype "
    "STT_FUNC STT_GNU_IFUNC STT_OBJECT STT_TLS STT_COMMON STT_NOTYPE".split()
)
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"')
_CFI = frozenset(
    "def_cfa def_cfa_register def_cfa_offset adjust_cfa_offset offset rel_offset register "
    "restore undefined same_value remember_state restore_state return_column signal_frame "
    "window_save escape personality lsda sections val_encoded_addr".split()
)


def symbol_names(word: str, args: list[str]) -> list[str]:
    """The names of `.globl a, b` and its kin; each must be a symbol name."""
    if not args or not all(args):
        raise SourceError(f"missing symbol name in '{word}'")
    for name in args:
        if not SYMBOL.fullmatch(name):
            raise SourceError(f"bad symbol name '{name}' in {word}")
    return args


def check_type(args: list[str]) -> None:
    """`.type name, @function` (also %function, "function", STT_FUNC)."""
    if not args or not SYMBOL.fullmatch(args[0]):
        raise SourceError("missing symbol name in '.type'")
    kind = args[1].strip() if len(args) == 2 else ""
    if kind[:1] in ("@", "%"):
        kind = kind[1:]
    elif _QUOTED.fullmatch(kind):
        kind = kind[1:-1]
    if kind not in _TYPES:
        raise SourceError(f"unrecognized symbol type '{kind}' in '.type {args[0]}'")


def check_size(args: list[str]) -> str:
    """`.size name, expression`: the expression to check once laid out."""
    if len(args) != 2 or not SYMBOL.fullmatch(args[0]) or not args[1]:
        raise SourceError("'.size' expects 'name, expression'")
    return args[1]


class LineInfo:
    """`.file` and `.loc` (DWARF line numbers): a `.loc` names a file numbered before."""

    def __init__(self) -> None:
        self.files: set[int] = set()

    def file(self, text: str) -> None:
        """`.file "name"` or `.file N "name" [md5 ...]` (DWARF 5)."""
        parts = text.split(None, 1)
        if _QUOTED.fullmatch(text.strip()):
            return
        if len(parts) == 2 and parts[0].isdigit() and _QUOTED.match(parts[1].strip()):
            self.files.add(int(parts[0]))
            return
        raise SourceError(f"'.file' expects a quoted file name, got '{text}'")

    def loc(self, text: str) -> None:
        """`.loc FILE LINE [COLUMN] [options]`."""
        parts = text.split()
        if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
            raise SourceError(f"'.loc' expects 'file line [column]', got '{text}'")
        if int(parts[0]) not in self.files:
            raise SourceError(f"unassigned file number {int(parts[0])} in '.loc'")


def check_ident(text: str) -> None:
    if not text.strip():
        # GNU as then reads the next line as the string, so accepts it only at the end
        raise SourceError(".ident without a string is not supported")
    if not _QUOTED.fullmatch(text.strip()):
        raise SourceError(f"'.ident' expects a quoted string, got '{text}'")


class Unwind:
    """GNU as's .cfi_startproc/.cfi_endproc pairing: other .cfi_ directives only inside."""

    def __init__(self) -> None:
        self.open = False
        self.remembered = 0

    def directive(self, word: str, args: list[str]) -> None:
        name = word[len(".cfi_") :]
        if name == "startproc":
            if self.open:
                raise SourceError("previous CFI entry not closed (missing .cfi_endproc)")
            if args and args != ["simple"]:
                raise SourceError(f"junk '{args[0]}' after '.cfi_startproc'")
            self.open, self.remembered = True, 0
        elif name == "endproc":
            if not self.open:
                raise SourceError(".cfi_endproc without corresponding .cfi_startproc")
            self.open = False
        elif name not in _CFI:
            raise SourceError(f"unknown CFI directive '{word}'")
        elif name not in ("sections",) and not self.open:
            raise SourceError(f"CFI instruction '{word}' used without previous .cfi_startproc")
        elif name == "remember_state":
            self.remembered += 1
        elif name == "restore_state":
            if not self.remembered:
                raise SourceError("CFI state restore without previous remember")
            self.remembered -= 1

    def finish(self) -> None:
        if self.open:
            raise SourceError("open CFI at the end of file; missing .cfi_endproc directive")
