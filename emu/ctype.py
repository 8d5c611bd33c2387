"""C type names as a kernel header spells them, for i386 (ILP32).

A struct field declares its C type once, beside its field name
(emu/structs.py); the debug information gdb reads (emu/debuginfo.py) and
any C header made from the views take it from there.  The grammar is what
those declarations need::

    type     := base stars [ "[" N "]" ]...          unsigned long, char [16]
              | base "(*)" "(" params ")"            int (*)(void *)
    base     := C arithmetic type | void | struct NAME | union NAME | typedef name
    stars    := "*"...

A typedef name is a struct view's own name (``spinlock_t``) or one of the
kernel's integer typedefs below.
"""

import re
from dataclasses import dataclass

POINTER_SIZE = 4

# (size, signed, DWARF encoding class): "char" is signed on i386 gcc.
ARITHMETIC = {
    "char": (1, True, "signed_char"),
    "signed char": (1, True, "signed_char"),
    "unsigned char": (1, False, "unsigned_char"),
    "short": (2, True, "signed"),
    "unsigned short": (2, False, "unsigned"),
    "int": (4, True, "signed"),
    "unsigned int": (4, False, "unsigned"),
    "long": (4, True, "signed"),
    "unsigned long": (4, False, "unsigned"),
    "long long": (8, True, "signed"),
    "unsigned long long": (8, False, "unsigned"),
    "_Bool": (1, False, "boolean"),
}
_SPELLINGS = {
    "signed": "int", "unsigned": "unsigned int", "short int": "short",
    "unsigned short int": "unsigned short", "signed int": "int", "long int": "long",
    "unsigned long int": "unsigned long", "long long int": "long long",
    "unsigned long long int": "unsigned long long", "signed long": "long",
}  # fmt: skip

# include/asm-generic/int-ll64.h, include/linux/types.h (i386).
INTEGER_TYPEDEFS = {
    "u8": "unsigned char", "u16": "unsigned short", "u32": "unsigned int",
    "u64": "unsigned long long", "s8": "signed char", "s16": "short", "s32": "int",
    "s64": "long long", "pid_t": "int", "size_t": "unsigned int", "gfp_t": "unsigned int",
    "cputime_t": "unsigned long", "bool": "_Bool", "__u8": "unsigned char",
    "__u16": "unsigned short", "__u32": "unsigned int", "__s32": "int",
}  # fmt: skip


class CTypeError(ValueError):
    """A C type name this grammar does not read."""


@dataclass(frozen=True)
class Base:
    name: str  # an ARITHMETIC name or "void"


@dataclass(frozen=True)
class Tagged:
    kind: str  # "struct" or "union"
    tag: str


@dataclass(frozen=True)
class Typedef:
    name: str


@dataclass(frozen=True)
class Pointer:
    to: object


@dataclass(frozen=True)
class Array:
    of: object
    count: int


@dataclass(frozen=True)
class Function:
    returns: object
    params: tuple


VOID = Base("void")
_KEYWORDS = {"struct", "union", "enum", "const", "volatile", "signed", "unsigned", "long",
             "short"}  # fmt: skip
_NAME = re.compile(r"[A-Za-z_]\w*")
_FUNCTION = re.compile(r"^(?P<ret>[^(]+?)\s*\(\s*\*\s*\)\s*\((?P<params>.*)\)$")
_ARRAY = re.compile(r"\[\s*(\d+)\s*\]\s*$")


def parse(text: str):
    """The C type ``text`` names (CTypeError if the grammar does not read it)."""
    spelled = " ".join(text.split())
    fn = _FUNCTION.match(spelled)
    if fn:
        params = [p.strip() for p in fn["params"].split(",") if p.strip()]
        args = () if params in ([], ["void"]) else tuple(parse(p) for p in params)
        return Pointer(Function(parse(fn["ret"]), args))
    dims = []
    while (m := _ARRAY.search(spelled)) is not None:
        dims.append(int(m[1]))
        spelled = spelled[: m.start()].rstrip()
    base_text = spelled.rstrip("* ")
    result = _base(base_text, text)
    for _ in range(spelled[len(base_text) :].count("*")):
        result = Pointer(result)
    for count in dims:  # found last first: the innermost dimension
        result = Array(result, count)
    return result


def _base(text: str, whole: str):
    words = text.removeprefix("const ").removeprefix("volatile ").strip()
    words = _SPELLINGS.get(words, words)
    if words in ARITHMETIC or words == "void":
        return Base(words)
    kind, _, tag = words.partition(" ")
    if kind in ("struct", "union") and _NAME.fullmatch(tag):
        return Tagged(kind, tag)
    if _NAME.fullmatch(words) and words not in _KEYWORDS:
        return Typedef(words)
    raise CTypeError(f"not a C type this tool reads: {whole!r}")


def spell(ctype) -> str:
    """The C spelling of a parsed type (a cast's form: ``struct task_struct *``)."""
    if isinstance(ctype, Base | Typedef):
        return ctype.name
    if isinstance(ctype, Tagged):
        return f"{ctype.kind} {ctype.tag}"
    if isinstance(ctype, Pointer) and isinstance(ctype.to, Function):
        params = ", ".join(spell(p) for p in ctype.to.params) or "void"
        return f"{spell(ctype.to.returns)} (*)({params})"
    if isinstance(ctype, Pointer):
        inner = spell(ctype.to)
        return inner + ("*" if inner.endswith("*") else " *")
    dims = ""
    while isinstance(ctype, Array):
        dims += f"[{ctype.count}]"
        ctype = ctype.of
    return f"{spell(ctype)} {dims}"


def size_of(ctype, sizes) -> int:
    """sizeof(ctype); ``sizes`` gives the size of a struct (a Tagged) or a typedef
    (a Typedef): KeyError for one it does not have."""
    if isinstance(ctype, Pointer):
        return POINTER_SIZE
    if isinstance(ctype, Array):
        return ctype.count * size_of(ctype.of, sizes)
    if isinstance(ctype, Base):
        if ctype.name == "void":
            raise CTypeError("void has no size")
        return ARITHMETIC[ctype.name][0]
    if isinstance(ctype, Typedef) and ctype.name in INTEGER_TYPEDEFS:
        return size_of(parse(INTEGER_TYPEDEFS[ctype.name]), sizes)
    return sizes[ctype]
