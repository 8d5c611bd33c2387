"""The expression language of assembly tests' expectations and of the
debugger's ``print`` and breakpoint conditions.

Assembly tests (``Expr``): one comparison, written in Python's expression
syntax and evaluated over the emulated machine.

    eax == 42                          a register (only in `at` checks)
    [esp + 8] == 0                     a 32-bit word of memory; u8[...], u16[...]
    [current + TASK_comm] == "asmtest" the C string at an address
    ptregs.flags == 0x286              the thread's pt_regs as fork built it
    exit == -EINTR                     the thread's exit code (only in `expect`)
    [per_cpu(per_cpu__cpu_number, cpu)] == 1

Python's parser reads the text and only the node types below are accepted, so
an expectation can never run arbitrary code; every name is checked before the
test runs.  Values are compared as 32-bit words (``-4 == 0xfffffffc``), ordered
comparisons unsigned.

The debugger (``CExpr``) reads the C that gdb users type -- ``$eax``,
``current->comm``, ``task(2)->thread.sp``, ``*(int *)$esp``, ``childregs->ax``,
``a && !b`` -- by rewriting its tokens into Python's syntax first (``->``
becomes ``.``, a cast ``(T *)`` a name raised to the operand, ``**``, which
binds like a C cast; a unary ``*`` becomes Python's unary ``+``, which binds
like C's; C's unary ``+`` is dropped) and then going through the same
parser and an allow-list of its own.  Values are integers, C strings
(bytes), typed pointers and the kernel's struct views.
"""

import ast
import operator
import re
from dataclasses import dataclass

from kernel_model.ptrace import PT_REGS_FIELDS

MASK = 0xFFFFFFFF
REGISTERS = frozenset(
    ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags",
     "cs", "ds", "es", "fs", "gs", "ss")
)  # fmt: skip
TASK_NAMES = frozenset(("current", "stack", "cpu"))
EXIT = "exit"
WIDTHS = {"u8": 1, "u16": 2, "u32": 4}
MAX_STRING = 256
# Parsing and evaluating recurse once per level: bounded so that no expression
# reaches Python's recursion limit (or its parser's memory).
MAX_TEXT = 500
MAX_DEPTH = 32

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}  # fmt: skip
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}  # fmt: skip


class ExprError(Exception):
    """A malformed expression (the caller adds file:line)."""


class EvalError(Exception):
    """An expression that cannot be evaluated on this run (bad address, no exit code)."""


def hex_value(value) -> str:
    """A value as reports show it: a 32-bit hex word, with its decimal value when
    small (a count, a CPU, an errno); a string as a string."""
    if isinstance(value, bytes):
        return repr(value.decode("latin-1"))
    word = value & MASK
    signed = word - (1 << 32) if word >> 31 else word
    return f"{word:#010x} ({signed})" if abs(signed) < 1 << 16 else f"{word:#010x}"


class Expr:
    """A parsed expression: a comparison (``check=True``) or a plain value."""

    def __init__(self, text: str, check: bool = True):
        self.text = text.strip()
        if len(self.text) > MAX_TEXT:
            raise ExprError(f"an expression of {len(self.text)} characters (at most {MAX_TEXT})")
        try:
            tree = parse(self.text)
        except SyntaxError as err:
            raise ExprError(f"cannot parse {self.text!r}: {err.msg}") from None
        _check_depth(tree)
        strings = _check_comparison(tree) if check else set()
        for node in ast.walk(tree):
            if node is not tree or not check:
                _check_node(node, strings)
        self.tree = tree
        # Every name the expression reads (symbols, registers, built-ins).
        self.names = {
            node.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Name) and not _is_function_name(tree, node)
        }

    def value(self, env) -> int:
        return _Evaluator(self.text, env).value(self.tree)

    def evaluate(self, env) -> tuple[bool, str]:
        """(holds, what was seen): the comparison on ``env``'s machine state."""
        ev = _Evaluator(self.text, env)
        try:
            left, right = ev.operands(self.tree)
        except EvalError as err:
            return False, str(err)
        holds = _COMPARE[type(self.tree.ops[0])](*_comparable(left, right))
        return holds, ev.describe(left, right)


_QUOTED = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")


def parse(source: str):
    """Python's parse of an expression (SyntaxError as it raises it), brackets
    nested at most MAX_DEPTH deep first: on some deeper text (many unclosed
    parentheses) the parser itself ends in a MemoryError."""
    depth = deepest = 0
    for ch in _QUOTED.sub("", source):
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise ExprError(f"an expression nested more than {MAX_DEPTH} levels deep")
    return ast.parse(source, mode="eval").body


def _check_depth(tree) -> None:
    """Refuse nesting deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExprError(f"an expression nested more than {MAX_DEPTH} levels deep")
        stack += [(child, depth + 1) for child in ast.iter_child_nodes(node)]


def _check_comparison(tree) -> set[int]:
    """The ids of the string constants allowed: a side compared (==, !=) with memory."""
    if not isinstance(tree, ast.Compare) or len(tree.ops) != 1:
        raise ExprError(f"expected one comparison such as 'eax == 42', got {_show(tree)!r}")
    sides = (tree.left, tree.comparators[0])
    strings = [isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides]
    if not any(strings):
        return set()
    other = sides[strings.index(True) ^ 1]
    if not isinstance(tree.ops[0], ast.Eq | ast.NotEq) or not _is_memory(other):
        raise ExprError('a string can only be compared with memory: [ADDR] == "text"')
    return {id(sides[strings.index(True)])}


_ALLOWED = {ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, *_BINARY, *_UNARY, *_COMPARE}


def _check_node(node, strings: set[int]) -> None:
    kind = type(node)
    if kind is ast.Constant and type(node.value) is str and id(node) not in strings:
        raise ExprError('a string can only be compared with memory: [ADDR] == "text"')
    if kind is ast.Constant:
        ok = type(node.value) is int or id(node) in strings
    elif kind is ast.List or kind is ast.Subscript:
        ok = _is_memory(node)
    elif kind is ast.Attribute:
        ok = _is_ptregs(node)
    elif kind is ast.Call:
        ok = _is_per_cpu(node)
    else:
        ok = kind in _ALLOWED
    if not ok:
        raise ExprError(f"{_show(node)!r} is not allowed in an expectation")


def _show(node) -> str:
    return ast.unparse(node)


def _is_memory(node) -> bool:
    if isinstance(node, ast.List):
        return len(node.elts) == 1
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id in WIDTHS
    )


def _is_ptregs(node) -> bool:
    return (
        isinstance(node.value, ast.Name)
        and node.value.id == "ptregs"
        and node.attr in PT_REGS_FIELDS
    )


def _is_per_cpu(node) -> bool:
    return (
        isinstance(node.func, ast.Name)
        and node.func.id == "per_cpu"
        and len(node.args) == 2
        and not node.keywords
    )


def _is_function_name(tree, name) -> bool:
    """``u8`` in ``u8[x]``, ``ptregs`` in ``ptregs.ip``, ``per_cpu`` in a call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript | ast.Attribute) and node.value is name:
            return True
        if isinstance(node, ast.Call) and node.func is name:
            return True
    return False


def _comparable(left, right) -> tuple:
    if isinstance(left, bytes) or isinstance(right, bytes):
        return left, right
    return left & MASK, right & MASK


class _Evaluator:
    """One evaluation; remembers the registers and memory it read, for the report."""

    def __init__(self, text: str, env):
        self.text, self.env, self.seen = text, env, {}

    def operands(self, tree) -> tuple:
        left, right = tree.left, tree.comparators[0]
        if isinstance(right, ast.Constant) and isinstance(right.value, str):
            return self.string(left), right.value.encode()
        if isinstance(left, ast.Constant) and isinstance(left.value, str):
            return left.value.encode(), self.string(right)
        return self.value(left), self.value(right)

    def string(self, node) -> bytes:
        addr = self.value(node.elts[0] if isinstance(node, ast.List) else node.slice)
        text = self.env.string(addr)
        self.seen[ast.get_source_segment(self.text, node)] = text
        return text

    def value(self, node) -> int:
        kind = type(node)
        if kind is ast.Constant:
            return node.value
        if kind is ast.BinOp:
            return self._binary(node)
        if kind is ast.UnaryOp:
            return _UNARY[type(node.op)](self.value(node.operand))
        if kind is ast.Call:
            return self.env.per_cpu(self.value(node.args[0]), self.value(node.args[1]))
        return self._leaf(node)

    def _binary(self, node) -> int:
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.FloorDiv | ast.Mod) and right == 0:
            raise EvalError(f"division by zero in {ast.get_source_segment(self.text, node)!r}")
        if isinstance(node.op, ast.LShift | ast.RShift) and not 0 <= right < 64:
            raise EvalError(f"shift by {right} in {ast.get_source_segment(self.text, node)!r}")
        return _BINARY[type(node.op)](left, right)

    def _leaf(self, node) -> int:
        """A name, ``ptregs.field`` or a memory read: recorded for the report."""
        if isinstance(node, ast.Name):
            value = self.env.name(node.id)
            if node.id not in self.env.constant_names:
                self.seen[node.id] = value
            return value
        if isinstance(node, ast.Attribute):
            value = self.env.ptregs(node.attr)
        else:
            inner = node.elts[0] if isinstance(node, ast.List) else node.slice
            width = 4 if isinstance(node, ast.List) else WIDTHS[node.value.id]
            value = int.from_bytes(self.env.read(self.value(inner), width), "little")
        self.seen[ast.get_source_segment(self.text, node)] = value
        return value

    def describe(self, left, right) -> str:
        parts = [f"{name} = {hex_value(value)}" for name, value in self.seen.items()]
        return "; ".join(parts) or f"left = {hex_value(left)}, right = {hex_value(right)}"


# -- the debugger's C expressions ---------------------------------------------

_C_TOKEN = re.compile(
    r"\s+|(?P<num>\d\w*)|(?P<back>\$\$\d*|\$(?!\w))|(?P<reg>\$\w+)|(?P<id>[A-Za-z_]\w*)"
    r"|(?P<str>\"(?:[^\"\\]|\\.)*\")|(?P<chr>'(?:[^'\\]|\\.)')"
    r"|(?P<op>->|&&|\|\||==|!=|<=|>=|<<|>>|[-+*/%&|^~!<>()\[\].,])"
)
_NUMBER = re.compile(
    r"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)(|[uU]|[lL]|[lL]{2}|[uU][lL]{1,2}|[lL]{1,2}[uU])"
)
MAX_NUMBER = 40  # characters: far past 64 bits in any base, far short of int()'s limit


@dataclass(frozen=True)
class CType:
    """A C type the debugger knows: a scalar (size, signedness) or a struct view."""

    name: str
    size: int
    signed: bool = False
    struct: type | None = None

    def __reduce__(self):
        # A struct's view class goes by its C name: a checkpoint taking over the
        # session is handed the value history.
        struct = self.struct.__name__ if self.struct is not None else None
        return _c_type_of, (self.name, self.size, self.signed, struct)


def _c_type_of(name: str, size: int, signed: bool, struct: str | None) -> CType:
    return CType(name, size, signed, STRUCTS[struct] if struct is not None else None)


STRUCTS: dict[str, type] = {}  # the struct views by C name (debugger/values.py names them)


# i386 is ILP32: int and long are 32 bits, long long 64 (gdb's i386 types).
INT = CType("int", 4, True)
UINT = CType("unsigned int", 4, False)
LONG = CType("long", 4, True)
ULONG = CType("unsigned long", 4, False)
LLONG = CType("long long", 8, True)
ULLONG = CType("unsigned long long", 8, False)
CHAR = CType("char", 1, True)
_LITERAL_TYPES = (INT, UINT, LONG, ULONG, LLONG, ULLONG)
C_TYPES = {
    t.name: t
    for t in (
        CHAR, CType("signed char", 1, True), CType("unsigned char", 1, False),
        CType("short", 2, True), CType("unsigned short", 2, False), INT, UINT, LONG, ULONG,
        LLONG, ULLONG, CType("u8", 1), CType("u16", 2), CType("u32", 4), CType("u64", 8),
        CType("s8", 1, True), CType("s16", 2, True), CType("s32", 4, True),
        CType("s64", 8, True), CType("void", 1),
    )
}  # fmt: skip
# The other spellings of those types ("unsigned" is "unsigned int", ...).
_TYPE_SPELLINGS = {
    "unsigned": "unsigned int", "signed": "int", "signed int": "int", "short int": "short",
    "signed short": "short", "unsigned short int": "unsigned short", "long int": "long",
    "signed long": "long", "unsigned long int": "unsigned long", "long long int": "long long",
    "signed long long": "long long", "unsigned long long int": "unsigned long long",
}  # fmt: skip
_TYPE_WORDS = {"char", "short", "int", "long", "unsigned", "signed", "void", "struct"} | set(
    C_TYPES
)


class CInt(int):
    """An integer with its C type (``ctype``): its value is wrapped to the type's
    width and sign, as C arithmetic leaves it."""

    def __new__(cls, value: int, ctype: CType):
        self = super().__new__(cls, wrap(value, ctype.size, ctype.signed))
        self.ctype = ctype
        return self

    def __getnewargs__(self):
        return int(self), self.ctype


def wrap(value: int, size: int, signed: bool) -> int:
    bits = 8 * size
    value &= (1 << bits) - 1
    return value - (1 << bits) if signed and value >> (bits - 1) else value


def _fits(value: int, ctype: CType) -> bool:
    return wrap(value, ctype.size, ctype.signed) == value


def typed(value) -> CInt:
    """An integer as C sees it: its own type, else the first of int, unsigned int,
    long long, unsigned long long that holds it (a hex literal's rule)."""
    if isinstance(value, CInt):
        return value
    ctype = next((t for t in (INT, UINT, LLONG) if _fits(value, t)), ULLONG)
    return CInt(value, ctype)


def literal(token: str) -> CInt:
    """A C integer constant with gdb's i386 type for it (C99's rules: a decimal
    one is signed unless suffixed u, or too big for long long)."""
    m = _NUMBER.fullmatch(token)
    if m is None:
        raise ExprError(f'Invalid number "{token}".')
    if len(token) > MAX_NUMBER:
        raise ExprError("Numeric constant too large.")
    digits, suffix = m.group(1), m.group(2).lower()
    base = 16 if digits[:2].lower() == "0x" else 8 if digits.startswith("0") else 10
    value, decimal = int(digits, base), base == 10
    unsigned, longs = "u" in suffix, suffix.count("l")
    for t in _LITERAL_TYPES[2 * longs :]:
        if unsigned and t.signed or decimal and not unsigned and not t.signed and t is not ULLONG:
            continue
        if _fits(value, t):
            return CInt(value, t)
    raise ExprError("Numeric constant too large.")


def arith_type(a: CType, b: CType) -> CType:
    """C's usual arithmetic conversions on ILP32: both promoted to int at least,
    then the wider, or the unsigned one of the same width."""
    a, b = promote(a), promote(b)
    if a.size != b.size:
        return a if a.size > b.size else b
    return b if a.signed and not b.signed else a


def promote(t: CType) -> CType:
    return INT if t.size < 4 else t


@dataclass(frozen=True)
class Pointer:
    """A typed pointer: ``(struct task_struct *) 0xc0700000``."""

    target: CType
    addr: int


def c_type(name: str, structs: dict) -> CType:
    words = " ".join(name.split())
    if words.startswith("struct "):
        cls = structs.get(words[7:].strip())
        if cls is None:
            raise ExprError(f"No struct type named {words[7:].strip()}.")
        return CType(words, cls.SIZE, struct=cls)
    words = _TYPE_SPELLINGS.get(words, words)
    if words not in C_TYPES:
        raise ExprError(f'No symbol "{words}" in current context.')
    return C_TYPES[words]


def _c_tokens(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, text, start, end) of each token of ``text``."""
    out, pos = [], 0
    while pos < len(text):
        m = _C_TOKEN.match(text, pos)
        if m is None:
            raise ExprError(f"Invalid character '{text[pos]}' in expression.")
        pos = m.end()
        if m.lastgroup is not None:
            out.append((m.lastgroup, m.group(m.lastgroup), m.start(), m.end()))
    return out


def _cast_at(tokens, i) -> tuple[str, int] | None:
    """``( type-words *... )`` starting at tokens[i]: (the type's text, index after)."""
    j, words = i + 1, []
    while j < len(tokens) and tokens[j][0] == "id" and (words or tokens[j][1] in _TYPE_WORDS):
        words.append(tokens[j][1])
        j += 1
        if words[0] != "struct" and j < len(tokens) and tokens[j][1] not in _TYPE_WORDS:
            break
    if not words or (words[0] == "struct" and len(words) != 2):
        return None
    stars = 0
    while j < len(tokens) and tokens[j][1] == "*":
        stars, j = stars + 1, j + 1
    if j >= len(tokens) or tokens[j][1] != ")" or stars > 1:
        return None
    return " ".join(words) + " *" * stars, j + 1


class _Translation:
    """C tokens -> Python source (see the module's docstring), remembering which
    characters of the C text each piece of Python came from: messages quote
    what the user typed, never the translation."""

    def __init__(self, text: str):
        self.text, self.casts, self.numbers = text, [], []
        self.pieces: list[tuple[str, int, int]] = []  # (python, C start, C end)
        tokens, i = _c_tokens(text), 0
        while i < len(tokens):
            i = self._token(tokens, i)
        self.source = " ".join(p for p, _, _ in self.pieces)

    def _add(self, python: str, start: int, end: int) -> None:
        self.pieces.append((python, start, end))

    def _token(self, tokens, i) -> int:
        kind, tok, start, end = tokens[i]
        last = self.pieces[-1][0] if self.pieces else None
        unary = last is None or last in ("(", "[", ",") or last in _OPERATOR_TEXT
        if kind == "id" and tok.startswith(_INTERNAL):
            raise ExprError(f'No symbol "{tok}" in current context.')
        if tok == "(" and (cast := _cast_at(tokens, i)):
            self.casts.append(cast[0])
            self._add(f"{_INTERNAL}cast{len(self.casts) - 1}", start, tokens[cast[1] - 1][3])
            self._add("**", start, start)
            return cast[1]
        if kind == "reg":
            name = tok[1:]
            self._add(f"{_INTERNAL}hist{name}" if name.isdigit() else f"{_INTERNAL}reg_{name}",
                      start, end)  # fmt: skip
        elif kind == "back":
            back = int(tok[2:] or 1) if tok.startswith("$$") else 0
            self._add(f"{_INTERNAL}back{back}", start, end)
        elif kind in ("num", "chr"):
            value = literal(tok) if kind == "num" else CInt(ord(ast.literal_eval(tok)), CHAR)
            self.numbers.append(value)
            self._add(f"{_INTERNAL}num{len(self.numbers) - 1}", start, end)
        elif tok == "*" and unary:
            self._add("+", start, end)
        elif tok == "&" and unary:
            self._add(f"{_INTERNAL}addr", start, end)
            self._add("**", start, start)
        elif tok != "+" or not unary:
            self._add(_C_TO_PYTHON.get(tok, tok), start, end)
        return i + 1

    def rest_from(self, offset: int) -> str:
        """The C text from the piece at Python column ``offset`` (1-based) on, as gdb
        quotes the rest of the line after a syntax error (empty: at the end)."""
        pos = 1
        for python, start, end in self.pieces if offset > 0 else ():
            if pos + len(python) > offset and end > start:
                return self.text[start:]
            pos += len(python) + 1
        return ""

    def c_text(self, node) -> str:
        """The C text an AST node of the translation came from."""
        spans, pos = [], 0
        lo, hi = getattr(node, "col_offset", 0), getattr(node, "end_col_offset", None)
        if hi is None:  # an operator (`is`, `in`): no position of its own
            return ""
        for python, start, end in self.pieces:
            size = len(python.encode())
            if lo <= pos and pos + size <= hi and end > start:
                spans.append((start, end))
            pos += size + 1
        if not spans:
            return ""
        return self.text[min(s for s, _ in spans) : max(e for _, e in spans)]


_C_TO_PYTHON = {"->": ".", "&&": "and", "||": "or", "!": "not", "/": "//"}
_OPERATOR_TEXT = {
    "+", "-", "*", "//", "%", "&", "|", "^", "~", "<<", ">>", "==", "!=", "<", "<=",
    ">", ">=", "and", "or", "not", "**",
}  # fmt: skip
_INTERNAL = "_dbg_"
_C_BINARY = {**_BINARY, ast.Div: operator.floordiv}
_C_ALLOWED = {
    ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.And, ast.Or,
    ast.Not, ast.Attribute, ast.Subscript, ast.List, ast.Call, ast.Div, ast.Pow, *_BINARY, *_UNARY,
    *_COMPARE,
}  # fmt: skip
REGISTER_ALIASES = {"pc": "eip", "sp": "esp", "fp": "ebp", "ps": "eflags"}


class CExpr:
    """A debugger expression (``print``, ``x``, conditions), checked when parsed."""

    def __init__(self, text: str):
        self.text = text.strip()
        if not self.text:
            raise ExprError("Argument required (expression to compute).")
        if len(self.text) > MAX_TEXT:
            raise ExprError(f"an expression of {len(self.text)} characters (at most {MAX_TEXT})")
        self.translation = _Translation(self.text)
        self.casts = self.translation.casts
        try:
            tree = parse(self.translation.source)
        except SyntaxError as err:
            near = self.translation.rest_from(err.offset or 0)
            raise ExprError(f"A syntax error in expression, near `{near}'.") from None
        _check_depth(tree)
        for node in ast.walk(tree):
            self._check(node)
        self.tree = tree

    def c_text(self, node) -> str:
        return self.translation.c_text(node)

    def _check(self, node) -> None:
        kind = type(node)
        if kind is ast.Constant:
            ok = type(node.value) is str
        elif kind is ast.BinOp and isinstance(node.op, ast.Pow):
            ok = isinstance(node.left, ast.Name) and (
                node.left.id.startswith(f"{_INTERNAL}cast") or node.left.id == f"{_INTERNAL}addr"
            )
        elif kind is ast.Call:
            ok = (
                isinstance(node.func, ast.Name)
                and node.func.id in ("task", "per_cpu")
                and not node.keywords
            )
        elif kind is ast.Attribute and node.attr.startswith(_INTERNAL):  # `p.5`, `p->$eax`
            raise ExprError(f"A syntax error in expression, near `{self.c_text(node)}'.")
        else:
            ok = kind in _C_ALLOWED
        if not ok:
            raise ExprError(f"{self.c_text(node) or self.text!r} is not allowed in an expression")

    def value(self, env):
        """The value: a CInt, bytes (a C string), a Pointer or a struct view."""
        return _CEvaluator(self, env).value(self.tree)


class _CEvaluator:
    def __init__(self, expr: CExpr, env):
        self.expr, self.env = expr, env

    def value(self, node):
        kind = type(node)
        if kind is ast.Constant:
            return node.value.encode()
        if kind is ast.Name:
            return self.name(node.id)
        if kind is ast.BinOp:
            return self.binary(node)
        if kind is ast.UnaryOp:
            return self.unary(node)
        if kind is ast.Compare:
            return self.compare(node)
        if kind is ast.BoolOp:
            return self.boolean(node)
        if kind is ast.Attribute:
            return field(self.value(node.value), node.attr, self.env)
        if kind is ast.Call:
            value = self.env.call(node.func.id, [self.integer(a) for a in node.args])
            return typed(value) if isinstance(value, int) else value
        if kind is ast.List:
            if len(node.elts) != 1:
                raise EvalError("[ADDR] takes one address")
            return self.env.load(self.integer(node.elts[0]), C_TYPES["u32"])
        return self.subscript(node)

    def integer(self, node) -> CInt:
        return typed(as_int(self.value(node)))

    def name(self, name: str):
        if name.startswith(f"{_INTERNAL}num"):
            return self.expr.translation.numbers[int(name[len(_INTERNAL) + 3 :])]
        if name.startswith(f"{_INTERNAL}reg_"):
            reg = name[len(_INTERNAL) + 4 :]
            return self.env.register(REGISTER_ALIASES.get(reg, reg))
        if name.startswith(f"{_INTERNAL}hist"):
            return self.env.history(int(name[len(_INTERNAL) + 4 :]))
        if name.startswith(f"{_INTERNAL}back"):
            return self.env.history_back(int(name[len(_INTERNAL) + 4 :]))
        value = self.env.name(name)
        return typed(value) if isinstance(value, int) else value

    def binary(self, node):
        if isinstance(node.op, ast.Pow) and node.left.id == f"{_INTERNAL}addr":
            return typed(self.address(node.right))
        if isinstance(node.op, ast.Pow):
            target = self.expr.casts[int(node.left.id[len(_INTERNAL) + 4 :])]
            return self.env.cast(target, self.value(node.right))
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.Add | ast.Sub) and (
            isinstance(left, Pointer) or isinstance(right, Pointer) and isinstance(node.op, ast.Add)
        ):
            return _pointer_arithmetic(node.op, left, right)
        return c_binary(type(node.op), typed(as_int(left)), typed(as_int(right)))

    def address(self, node) -> int:
        """C's unary ``&``: where an lvalue lives (a field, ``*P``, ``P[i]``, a symbol)."""
        if isinstance(node, ast.Attribute):
            base = self.value(node.value)
            if isinstance(base, Pointer) and base.target.struct is not None:
                base = self.env.view(base.target.struct, base.addr)
            offsets = getattr(base, "OFFSETS", None)
            if offsets is None or node.attr not in offsets:
                raise EvalError(f"There is no member named {node.attr}.")
            return (base.addr + offsets[node.attr]) & MASK
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            return as_int(self.value(node.operand)) & MASK
        if isinstance(node, ast.Subscript):
            pointer = self.value(node.value)
            if isinstance(pointer, Pointer):
                return (pointer.addr + self.integer(node.slice) * pointer.target.size) & MASK
        if isinstance(node, ast.List) and len(node.elts) == 1:
            return self.integer(node.elts[0]) & MASK
        if isinstance(node, ast.Name) and not node.id.startswith(_INTERNAL):
            if node.id not in getattr(self.env, "locals", {}):
                return as_int(self.value(node)) & MASK  # a symbol is its address
        raise EvalError("Attempt to take address of value not located in memory.")

    def unary(self, node):
        operand = self.value(node.operand)
        if isinstance(node.op, ast.UAdd):  # C's unary *
            return deref(operand, self.env)
        value = typed(as_int(operand))
        if isinstance(node.op, ast.Not):
            return CInt(not value, INT)
        return CInt(_UNARY[type(node.op)](value), promote(value.ctype))

    def compare(self, node):
        """C's comparisons, left to right (``a < b < c`` is ``(a < b) < c``)."""
        left = self.value(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.value(right_node)
            if isinstance(left, bytes) or isinstance(right, bytes):
                if not isinstance(op, ast.Eq | ast.NotEq):
                    raise EvalError("strings compare only with == and !=")
                a, b = _string_of(left, self.env), _string_of(right, self.env)
            elif isinstance(left, Pointer) or isinstance(right, Pointer):
                a, b = as_int(left) & MASK, as_int(right) & MASK
            else:
                a, b = typed(as_int(left)), typed(as_int(right))
                common = arith_type(a.ctype, b.ctype)
                a, b = CInt(a, common), CInt(b, common)
            left = CInt(_COMPARE[type(op)](a, b), INT)
        return left

    def boolean(self, node):
        want_all = isinstance(node.op, ast.And)
        for item in node.values:
            if bool(as_int(self.value(item))) != want_all:
                return CInt(not want_all, INT)
        return CInt(want_all, INT)

    def subscript(self, node):
        base = node.value
        index = self.integer(node.slice)
        if isinstance(base, ast.Name) and base.id in WIDTHS:
            return self.env.load(index, C_TYPES[base.id])
        pointer = self.value(base)
        if not isinstance(pointer, Pointer):
            raise EvalError(f"cannot subscript {self.expr.c_text(base)!r}: not a pointer")
        return deref(Pointer(pointer.target, pointer.addr + index * pointer.target.size), self.env)


def c_binary(op: type, left: CInt, right: CInt) -> CInt:
    """One of C's binary operators on integers, in their common type (a shift: in
    the left operand's), wrapped as C's arithmetic wraps; / and % truncate
    toward zero, as C's do."""
    if op in (ast.LShift, ast.RShift):
        ctype = promote(left.ctype)
        side = "left" if op is ast.LShift else "right"
        if right < 0:
            raise EvalError(f"{side} shift count is negative")
        if right >= 8 * ctype.size:
            raise EvalError(f"{side} shift count >= width of type")
        return CInt(_BINARY[op](left, int(right)), ctype)
    ctype = arith_type(left.ctype, right.ctype)
    a, b = int(CInt(left, ctype)), int(CInt(right, ctype))
    if op in (ast.FloorDiv, ast.Div, ast.Mod):
        if b == 0:
            raise EvalError("Division by zero")
        quotient = abs(a) // abs(b) * (-1 if (a < 0) != (b < 0) else 1)
        return CInt(quotient if op is not ast.Mod else a - b * quotient, ctype)
    return CInt(_C_BINARY[op](a, b), ctype)


def _pointer_arithmetic(op, left, right):
    """``P + N``, ``N + P``, ``P - N`` (in elements of P's target), ``P - Q`` (elements between)."""
    if isinstance(right, Pointer) and isinstance(left, Pointer):
        size = max(left.target.size, 1)
        return c_binary(ast.Div, CInt(left.addr - right.addr, LONG), CInt(size, LONG))
    pointer, count = (left, right) if isinstance(left, Pointer) else (right, left)
    step = max(pointer.target.size, 1) * as_int(count)
    return Pointer(
        pointer.target, (pointer.addr + (-step if isinstance(op, ast.Sub) else step)) & MASK
    )


def as_int(value) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, Pointer):
        return value.addr
    if isinstance(value, bytes):
        raise EvalError("a string is not a number here")
    addr = getattr(value, "addr", None)
    if addr is None:
        raise EvalError(f"{type(value).__name__} is not a number")
    raise EvalError(f"a struct {type(value).__name__} is not a number (take a field of it)")


def _string_of(value, env) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, Pointer):
        return env.string(value.addr)
    raise EvalError("only a string or a char pointer compares with a string")


def deref(value, env):
    """C's ``*``: a pointer's target, or a 32-bit word at an integer address."""
    if isinstance(value, Pointer):
        target = value.target
        if target.struct is not None:
            return env.view(target.struct, value.addr)
        if target.name == "void":
            raise EvalError("Attempt to take contents of a non-pointer value.")
        return env.load(value.addr, target)
    return env.load(as_int(value), C_TYPES["u32"])


# The C type of each scalar field kind of emu/structs.py.
FIELD_TYPES = {"u8": C_TYPES["u8"], "u16": C_TYPES["u16"], "u32": C_TYPES["u32"],
               "s32": C_TYPES["s32"], "ptr": ULONG}  # fmt: skip


def field(value, name: str, env):
    """``value.name`` or ``value->name`` over a struct view or a struct pointer."""
    if isinstance(value, Pointer):
        if value.target.struct is None:
            raise EvalError(f"The -> operator needs a struct pointer, not ({value.target.name} *)")
        value = env.view(value.target.struct, value.addr)
    fields = getattr(value, "_NESTED", None)
    if fields is None:
        raise EvalError(
            f"Attempt to extract a component of a value that is not a structure: .{name}"
        )
    if name not in value.OFFSETS:
        raise EvalError(f"There is no member named {name}.")
    result = getattr(value, name)
    target = POINTER_FIELDS.get((type(value).__name__, name))
    if target is not None and result:
        return Pointer(CType(f"struct {target.__name__}", target.SIZE, struct=target), result)
    if isinstance(result, int):
        kind = next((f.ctype for f in value.FIELDS if f.name == name), None)
        ctype = FIELD_TYPES.get(kind)
        return CInt(result, ctype) if ctype is not None else typed(result)
    return result


# Pointer fields whose target type the struct declarations do not say (they
# declare "ptr"): include/linux/sched.h, asm/thread_info.h.
POINTER_FIELDS: dict[tuple[str, str], type] = {}
