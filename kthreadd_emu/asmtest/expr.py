"""Expectations of assembly tests: one comparison, written in Python's expression
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
"""

import ast
import operator

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
            tree = ast.parse(self.text, mode="eval").body
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
