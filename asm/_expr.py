"""Expressions the way GNU as reads them.

Three things differ from C and matter for byte-exact output:
- precedence: `* / % << >>` bind tighter than `| & ^`, which bind tighter than `+ -`
  (so `4+3&1` is 5), then comparisons (true is -1), then `&&`, then `||`;
- arithmetic wraps at 64 bits (GNU as on a 64-bit host) and `>>` is arithmetic;
- GNU as picks short encodings only for values it could fold when it read the
  statement. `Val.terms` records what it could not fold yet (labels of other
  fragments, forward references), so the encoder can choose the same width.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from ._errors import SourceError, UndefinedSymbolError

Node = tuple | int
LocalResolver = Callable[[str, str], str]

MAX_TOKENS = 300
_MASK64 = (1 << 64) - 1

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<hex>0[xX][0-9a-fA-F]+)(?![\w$])
    | (?P<bin>0[bB][01]+)(?![\w$])
    | (?P<local>\d+)(?P<dir>[fb])(?![\w.$])
    | (?P<dec>\d+)(?![\w.$])
    | (?P<chr>'(?:\\.|[^\\])'?)(?![\w$])
    | (?P<sym>[A-Za-z_.][\w.$]*)
    | (?P<op><<|>>|<=|>=|==|!=|<>|&&|\|\||[-+*/%&|^~!()<>])
    )""",
    re.X | re.S | re.A,
)

_RANK = {"||": 1, "&&": 2, "+": 4, "-": 4, "|": 5, "!": 5, "&": 5, "^": 5}
_RANK.update(dict.fromkeys(("==", "!=", "<>", "<", "<=", ">", ">="), 3))
_RANK.update(dict.fromkeys(("*", "/", "%", "<<", ">>"), 6))

_ESCAPES = {"b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_CHAR_ESCAPES = {"b": 8, "f": 12, "n": 10, "r": 13, "t": 9}


class Val(NamedTuple):
    """An evaluated expression.

    sect counts the section base in the value: 0 for an absolute number, 1 for an
    address inside the image (a label), anything else cannot be encoded.
    terms lists what GNU as could not fold at parse time; empty means constant.
    Keys: "f<N>" a label of fragment N, "s:<name>" a symbol not laid out yet, "?"
    anything else, "?r" what GNU as resolves at once where it needs a number
    (RESOLVED), "pc" a number minus a label (`ext - label`, `5 - 1b`: _PC_RELATIVE).
    """

    value: int
    sect: int = 0
    terms: tuple = ()

    @property
    def const(self) -> bool:
        return not self.terms


def wrap64(value: int) -> int:
    """Two's-complement 64-bit wrap, as GNU as's offsetT arithmetic does."""
    return ((value + (1 << 63)) & _MASK64) - (1 << 63)


GOT_SYMBOL = "_GLOBAL_OFFSET_TABLE_"


def parse_expr(text: str, local: LocalResolver) -> Node:
    """Parse an expression; numeric local labels (`1f`, `2b`) are resolved by `local`.

    PIC forms become nodes of their own (see asm/_pic.py): `x@GOTOFF` ("gotoff", x),
    `x@GOT` ("got", x), `x@PLT` just x, and `_GLOBAL_OFFSET_TABLE_[+-n]` ("gotpc", ...).
    """
    if "@" in text:
        return _relocated(text, local)
    node = _parse_plain(text, local)
    if GOT_SYMBOL in text:
        return _gotpc(node, text)
    return node


def _parse_plain(text: str, local: LocalResolver) -> Node:
    tokens = _tokenize(text)
    if not tokens:
        raise SourceError(f"missing expression in '{text.strip()}'")
    if len(tokens) > MAX_TOKENS:
        raise SourceError("expression too complex")
    parser = _Parser(tokens, local)
    node = parser.binary(1)
    if parser.pos != len(tokens):
        raise SourceError(f"junk '{parser.rest()}' in expression '{text.strip()}'")
    return node


def _tokenize(text: str) -> list[tuple[str, object]]:
    tokens, pos, end = [], 0, len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            _refuse_relocation(text, pos)
            if _NO_DIGITS.match(text, pos):
                # GNU as reads an absent operand there: 0, or a unary operator ignored
                raise SourceError(f"'0x' without digits in '{text.strip()}' is not supported")
            raise SourceError(f"bad expression '{text.strip()}'")
        tokens.append(_token(match))
        pos = match.end()
    return tokens


_RELOCATION = re.compile(r"@(\w+)")
_NO_DIGITS = re.compile(r"\s*0[xX](?![0-9a-fA-F])")
_TLS = frozenset("tlsgd tlsldm dtpoff ntpoff gotntpoff indntpoff tpoff tlsdesc tlscall".split())
_PIC_KINDS = {"GOTOFF": "gotoff", "GOT": "got", "PLT": ""}


def _relocated(text: str, local: LocalResolver) -> Node:
    """`x@GOTOFF+4` and the like: GNU as (lex_got) takes the `@KIND` out of the text
    and applies the relocation to the whole remaining expression."""
    match = _RELOCATION.search(text)
    if not match or "'" in text[: match.start()]:
        return _parse_plain(text, local)
    kind = match.group(1)
    symbol = (text[: match.start()].split() or [""])[-1]
    if kind not in _PIC_KINDS:
        what = "TLS relocation" if kind.lower() in _TLS else "relocation"
        raise SourceError(f"{what} '{symbol}@{kind}' is not supported in a flat image")
    rest = text[: match.start()] + text[match.end() :]
    if "@" in rest:
        raise SourceError(f"more than one relocation in '{text.strip()}'")
    node = _parse_plain(rest, local)
    if GOT_SYMBOL in rest:
        raise SourceError(f"'{GOT_SYMBOL}' with a relocation: '{text.strip()}'")
    return (_PIC_KINDS[kind], node, f"{symbol}@{kind}") if _PIC_KINDS[kind] else node


def _gotpc(node: Node, text: str) -> Node:
    """`_GLOBAL_OFFSET_TABLE_` (plus or minus a number) is GNU as's R_386_GOTPC: the
    table's distance from the instruction (or data) that holds it."""
    sym = ("sym", GOT_SYMBOL, GOT_SYMBOL)
    if node == sym or (
        isinstance(node, tuple)
        and node[:3] in (("bin", "+", sym), ("bin", "-", sym))
        and isinstance(node[3], int)
    ):
        return ("gotpc", node)
    raise SourceError(f"'{GOT_SYMBOL}' can only be used alone or plus a number: '{text.strip()}'")


def _refuse_relocation(text: str, pos: int) -> None:
    """A stray `@` (after the relocation is taken out): name what it looks like."""
    if _RELOCATION.match(text, pos):
        raise SourceError(f"more than one relocation in '{text.strip()}'")


def _token(match: re.Match) -> tuple[str, object]:
    kind = match.lastgroup
    text = match.group(kind)
    if kind == "dir":
        return ("local", (match.group("local"), text))
    if kind in ("hex", "bin", "dec"):
        return ("num", parse_number(text))
    if kind == "chr":
        return ("num", char_value(text))
    return (kind, text)


def parse_number(text: str) -> int:
    """GNU as integer literal: 0x hex, 0b binary, leading-0 octal, else decimal."""
    low = text.lower()
    if low.startswith(("0x", "0b")):
        value = int(low[2:], 16 if low[1] == "x" else 2)
    elif len(low) > 1 and low[0] == "0":
        if not set(low) <= set("01234567"):
            raise SourceError(f"bad octal number '{text}'")
        value = int(low, 8)
    else:
        value = int(low)
    if value > _MASK64:
        raise SourceError(f"number '{text}' does not fit in 64 bits")
    return wrap64(value)


def char_value(text: str) -> int:
    """Value of a character constant `'a`, `'a'` or `'\\n`.

    GNU as's input scrubber (app.c process_escape) turns these into decimal numbers
    and knows only \\b \\f \\n \\r \\t: any other escaped character stands for itself,
    so `'\\101` is the character '1' followed by the digits "01" (which we refuse as junk).
    """
    if text[1] == "\\" and len(text) > 2:  # `'\''` is the quote: the escape comes first
        return _CHAR_ESCAPES.get(text[2], ord(text[2]))
    return text[1].encode("utf-8")[0]


def unescape(body: str) -> bytes:
    """Bytes of a string body, escapes read as GNU as's next_char_of_string (read.c):
    `\\NNN` takes up to three digits 0-9 as octal (so `\\9` is 9), `\\x` takes every
    hex digit that follows (none gives 0), the low byte is kept, and an unknown
    escape is the character itself."""
    out, pos = bytearray(), 0
    while pos < len(body):
        char = body[pos]
        if char != "\\" or pos + 1 == len(body):
            out += char.encode("utf-8")
            pos += 1
            continue
        pos = _escape(body, pos + 1, out)
    return bytes(out)


_OCTAL = re.compile(r"[0-9]{1,3}")
_HEX = re.compile(r"[xX]([0-9a-fA-F]*)")


def _escape(body: str, pos: int, out: bytearray) -> int:
    """Append the bytes of the escape starting at `pos` (after the backslash); return
    the position after it."""
    if octal := _OCTAL.match(body, pos):
        value = 0
        for digit in octal.group():
            value = value * 8 + int(digit)
        out.append(value & 0xFF)
        return octal.end()
    if hexa := _HEX.match(body, pos):
        out.append(int(hexa.group(1) or "0", 16) & 0xFF)
        return hexa.end()
    char = body[pos]
    if char in _ESCAPES:
        out.append(_ESCAPES[char])
    else:
        out += char.encode("utf-8")
    return pos + 1


class _Parser:
    """Precedence climbing over GNU as's operator ranks."""

    def __init__(self, tokens: list, local: LocalResolver) -> None:
        self.tokens, self.pos, self.local = tokens, 0, local

    def rest(self) -> str:
        return " ".join(str(value) for _, value in self.tokens[self.pos :])

    def peek_op(self) -> str | None:
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "op":
            return self.tokens[self.pos][1]
        return None

    def binary(self, min_rank: int) -> Node:
        left = self.unary()
        while (op := self.peek_op()) in _RANK and _RANK[op] >= min_rank:
            self.pos += 1
            left = ("bin", op, left, self.binary(_RANK[op] + 1))
        return left

    def unary(self) -> Node:
        op = self.peek_op()
        if op in ("-", "+", "~", "!"):
            self.pos += 1
            operand = self.unary()
            return operand if op == "+" else ("un", op, operand)
        return self.primary()

    def primary(self) -> Node:
        if self.pos == len(self.tokens):
            raise SourceError("missing operand in expression")
        kind, value = self.tokens[self.pos]
        self.pos += 1
        if kind == "num":
            return value
        if kind == "local":
            number, direction = value
            return ("sym", self.local(number, direction), number + direction)
        if kind == "sym":
            return ("dot",) if value == "." else ("sym", value, value)
        if value == "(":
            inner = self.binary(1)
            if self.peek_op() != ")":
                raise SourceError("missing ')' in expression")
            self.pos += 1
            return inner
        raise SourceError(f"unexpected '{value}' in expression")


Lookup = Callable[[str, str], Val]
Base = Callable[[Val], tuple[str, int]]


def evaluate(node: Node, lookup: Lookup, dot: Callable[[], Val], base: Base | None = None) -> Val:
    """Value of a parsed expression; `lookup(name, written)` supplies symbols and
    `base(val)` an address's section and where it starts (None: where there are no
    sections yet, comparing addresses is refused)."""
    if isinstance(node, int):
        return Val(node)
    kind = node[0]
    if kind == "sym":
        return lookup(node[1], node[2])
    if kind == "dot":
        return dot()
    if kind == "un":
        if node[1] != "!":
            return _unary(node[1], evaluate(node[2], lookup, dot, base), base)
        operand = _or_undefined(node[2], lookup, dot, base)
        if isinstance(operand, Val):
            return _unary("!", operand, base)
        if node[2][0] != "sym":
            raise operand
        return Val(1, 0, (("?", 1),))  # GNU as: `!S` is `S == 0`, an undefined S is 0
    if kind == "bin" and node[1] in _EQUALITY:
        left, right = (_or_undefined(part, lookup, dot, base) for part in node[2:])
        if isinstance(left, Val) and isinstance(right, Val):
            return _binary(node[1], left, right, base)
        # GNU as: equal only if both are the same undefined symbol
        equal = not isinstance(left, Val) and not isinstance(right, Val) and node[2] == node[3]
        return Val(_truth(equal == (node[1] == "==")), 0, RESOLVED)
    if kind == "gotoff":
        left = evaluate(node[1], lookup, dot, base)
        return _binary("-", left, lookup(GOT_SYMBOL, GOT_SYMBOL), base)
    if kind == "gotpc":
        return _binary("-", evaluate(node[1], lookup, dot, base), dot(), base)
    if kind == "got":
        raise SourceError(f"'{node[2]}' is only supported as a memory operand's displacement")
    left = evaluate(node[2], lookup, dot, base)
    return _binary(node[1], left, evaluate(node[3], lookup, dot, base), base)


def _or_undefined(node: Node, lookup: Lookup, dot, base: Base | None) -> Val | SourceError:
    """The value of `node`, or the error naming its undefined symbol where GNU as
    keeps one as a value: a name, maybe plus or minus a number."""
    try:
        return evaluate(node, lookup, dot, base)
    except UndefinedSymbolError as err:
        if _undefined_plus_number(node, lookup, dot, base):
            return err
        raise


def _undefined_plus_number(node: Node, lookup: Lookup, dot, base: Base | None) -> bool:
    """An undefined name plus or minus absolute values (`do_exit + ext`)."""
    if node[0] == "sym":
        return True
    if node[0] != "bin" or node[1] not in "+-":
        return False
    sides = []
    for part in node[2:]:
        try:
            sides.append(evaluate(part, lookup, dot, base))
        except UndefinedSymbolError:
            sides.append(None)
    left, right = sides
    if left is None and right is not None and not right.sect:
        return _undefined_plus_number(node[2], lookup, dot, base)
    if right is None and left is not None and not left.sect and node[1] == "+":
        return _undefined_plus_number(node[3], lookup, dot, base)
    return False


def symbol_plus_number(node: Node) -> bool:
    """A name, maybe plus or minus numbers: what GNU as keeps of an undefined symbol."""
    if node[0] == "sym":
        return True
    if node[0] != "bin" or node[1] not in "+-":
        return False
    left, right = node[2:]
    if isinstance(right, int):
        return symbol_plus_number(left)
    return node[1] == "+" and isinstance(left, int) and symbol_plus_number(right)


def _unary(op: str, val: Val, base: Base | None = None) -> Val:
    if op == "-":
        if val.sect:  # GNU as: "invalid operand (.text section) for `-'"
            raise SourceError("negated address: invalid operand (an address) for unary '-'")
        if pc_relative(val):  # -(ext - label): no field holds a negated pc-relative value
            raise SourceError("invalid operands (*ABS* and .text sections) for '-'")
        terms = tuple((key, 1 if key == "?" else -coeff) for key, coeff in val.terms)
        return Val(wrap64(-val.value), 0, terms)
    if op == "!" and val.sect == 1 and base is not None:
        # GNU as: `!S` is `S == 0`, allowed on anything: S's offset in its section.
        return Val(int(val.value == base(val)[1]), 0, (("?", 1),))
    _absolute(op, val)
    if pc_relative(val):
        raise SourceError("invalid operands (*ABS* and .text sections) for '-'")
    value = ~val.value if op == "~" else int(not val.value)
    return Val(value, 0, _opaque(val))


_EQUALITY = frozenset(("==", "!=", "<>"))
_ORDER = frozenset(("<", "<=", ">", ">="))


def _binary(op: str, left: Val, right: Val, base: Base | None = None) -> Val:
    if op in ("+", "-"):
        if pc_relative(left) and right.sect or pc_relative(right) and left.sect:
            raise SourceError(f"invalid operands (*ABS* and .text sections) for '{op}'")
        sign = 1 if op == "+" else -1
        value = wrap64(left.value + sign * right.value)
        if sign < 0 and right.sect and not left.sect and (not left.terms or _forward(left)):
            # `5 - label`, `sym - label`: pc-relative in GNU as, resolved late, so
            # the field is full width
            return Val(value, 0, _merge(_PC_RELATIVE, right.terms, -1))
        terms = _merge(left.terms, right.terms, sign)
        return Val(value, left.sect + sign * right.sect, terms)
    if (left.terms or right.terms) and (pc_relative(left) or pc_relative(right)):
        raise SourceError("invalid operands (*ABS* and .text sections) for '-'")
    if (left.sect or right.sect) and base is not None and {left.sect, right.sect} <= {0, 1}:
        compared = _compare_addresses(op, left, right, base)
        if compared is not None:
            return compared
    _absolute(op, left)
    _absolute(op, right)
    return Val(wrap64(_ARITH[op](left.value, right.value)), 0, _opaque(left, right))


def _compare_addresses(op: str, left: Val, right: Val, base: Base) -> Val | None:
    """GNU as (resolve_symbol_value) allows `==` and `!=` on anything (equal: same
    section and offset) and `<` and the like on two addresses of one section."""
    same = left.sect == right.sect == 1 and base(left)[0] == base(right)[0]
    if left.sect == right.sect == 1 and not same:
        # GNU as allows it only if one label is defined later in the source
        raise SourceError(f"'{op}' of addresses in different sections is not supported")
    if op in _EQUALITY:
        equal = same and left.value == right.value
        return Val(_truth(equal == (op == "==")), 0, _resolved(left, right, equal))
    if op in _ORDER and same:
        return Val(_ARITH[op](left.value, right.value), 0, _resolved(left, right))
    return None


def _resolved(left: Val, right: Val, equal: bool = True) -> tuple:
    """The terms of a comparison: RESOLVED where GNU as, wanting a number at once
    (.fill), has it when it reads the line: two labels it knows of one fragment; an
    address against a number; a label it knows against one it has not read, unequal
    (GNU as sees an undefined symbol there: so never unless they differ anyway)."""
    if _known_frag(left) and left.terms == right.terms:
        return RESOLVED
    if left.sect != right.sect and not (left.terms and right.terms):
        return RESOLVED
    one_read = _known_frag(left) and _forward(right) or _known_frag(right) and _forward(left)
    if one_read and not equal:
        return RESOLVED
    return _opaque(left, right)


def _forward(val: Val) -> bool:
    return len(val.terms) == 1 and val.terms[0][0][:2] == "s:"


# Marks `ext - label`, which GNU as can only write as a pc-relative field.
_PC_RELATIVE = (("?", 1), ("pc", 1))


def pc_relative(val: Val) -> bool:
    return any(key == "pc" for key, _ in val.terms)


def _absolute(op: str, val: Val) -> None:
    """GNU as refuses `label & 0xfff` and the like: only + and - relocate."""
    if val.sect:
        raise SourceError(f"invalid operands (.text and *ABS* sections) for '{op}'")


# What GNU as could not fold while reading an instruction (so its field is full
# width) but resolves at once where a number is needed (`.fill`): see Val.
RESOLVED = (("?r", 1),)


def _opaque(*vals: Val) -> tuple:
    if not any(val.terms for val in vals):
        return ()
    if all(key == "?r" for val in vals for key, _ in val.terms):
        return RESOLVED
    return (("?", 1),)


def _known_frag(val: Val) -> bool:
    """An address of a label already read, in one fragment (GNU as knows its offset)."""
    return len(val.terms) == 1 and val.terms[0][0][0] == "f"


def _merge(left: tuple, right: tuple, sign: int) -> tuple:
    if not right:
        return left
    coeffs = dict(left)
    for key, coeff in right:
        coeffs[key] = 1 if key == "?" else coeffs.get(key, 0) + sign * coeff
    return tuple(sorted(item for item in coeffs.items() if item[1]))


def _divide(left: int, right: int) -> int:
    if right == 0:
        raise SourceError("division by zero")
    quotient = abs(left) // abs(right)
    return quotient if (left < 0) == (right < 0) else -quotient


def _modulo(left: int, right: int) -> int:
    return left - _divide(left, right) * right


def _shift_left(left: int, right: int) -> int:
    return left << right if 0 <= right < 64 else 0


def _shift_right(left: int, right: int) -> int:
    """GNU as shifts its 64-bit value as unsigned (`-1 >> 63` is 1); a count out
    of 0..63 gives 0 (with a warning there)."""
    return (left & _MASK64) >> right if 0 <= right < 64 else 0


def _truth(flag: bool) -> int:
    return -1 if flag else 0


_ARITH = {
    "*": lambda a, b: a * b,
    "/": _divide,
    "%": _modulo,
    "<<": _shift_left,
    ">>": _shift_right,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "==": lambda a, b: _truth(a == b),
    "!=": lambda a, b: _truth(a != b),
    "!": lambda a, b: a | ~b,  # GNU as's binary `!`: or-not
    "<>": lambda a, b: _truth(a != b),
    "<": lambda a, b: _truth(a < b),
    "<=": lambda a, b: _truth(a <= b),
    ">": lambda a, b: _truth(a > b),
    ">=": lambda a, b: _truth(a >= b),
    "&&": lambda a, b: int(bool(a) and bool(b)),
    "||": lambda a, b: int(bool(a) or bool(b)),
}
