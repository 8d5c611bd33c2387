"""Directives that put no bytes in the image: symbol attributes and `.ident`.

GNU as records these in the object file (symbol table, .comment), none of which is
part of the flat image. They are still checked the way GNU as checks them, so a
source GNU as refuses is refused here too.  (Line numbers are _lines.py's, call
frames _cfi.py's.)
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


def check_ident(text: str) -> None:
    if not text.strip():
        # GNU as then reads the next line as the string, so accepts it only at the end
        raise SourceError(".ident without a string is not supported")
    if not _QUOTED.fullmatch(text.strip()):
        raise SourceError(f"'.ident' expects a quoted string, got '{text}'")
