"""Source text to a flat list of statements: comments removed, `;` split, macros expanded.

Everything here is textual, as in GNU as, where macros and `.rept` work on lines
before any instruction is looked at. Line numbers survive multi-line comments so
errors point at the right line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import SourceError
from ._expr import Val, char_value, evaluate, parse_expr

MAX_STATEMENTS = 50_000
MAX_MACRO_DEPTH = 100

# Strings and character constants (kept), `/* */`, `#` to end of line, `/` first on
# a line or after a `;` (a GNU as i386 line comment: a statement starts there), and
# an unterminated `/*` running to the end.
_COMMENT = re.compile(
    r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\\\n])\'?|/\*.*?\*/|#[^\n]*'
    r"|(?:^|(?<=;))[ \t]*/(?!\*)[^\n]*|/\*.*",
    re.S | re.M,
)
_SEPARATOR = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|.)\'?|;')
SYMBOL = re.compile(r"[A-Za-z_.][\w.$]*", re.A)
_LABEL = re.compile(r"\s*([A-Za-z_.][\w.$]*|\d+)\s*:", re.A)
# `name = expr`, and `name == expr` (GNU as's `.eqv`)
ASSIGN = re.compile(r"([A-Za-z_.][\w.$]*)\s*(==?)(.*)$", re.S | re.A)
_SUBST = re.compile(r"\\(\(\)|@|[A-Za-z_.][\w.$]*)", re.A)
_OPERATORS = "+-*/&|^<>=!~"
_PARAM = re.compile(r"([A-Za-z_.][\w.$]*)(?:\s*:\s*(req|vararg))?(?:\s*=\s*(.*))?$", re.S | re.A)
_BLOCKS = {".macro": (".macro",), ".rept": (".rept", ".irp", ".irpc")}
_BLOCKS[".irp"] = _BLOCKS[".irpc"] = _BLOCKS[".rept"]
_ENDS = {".macro": ".endm", ".rept": ".endr", ".irp": ".endr", ".irpc": ".endr"}
_COMPARISONS = {
    ".if": lambda v: v != 0, ".ifne": lambda v: v != 0, ".ifeq": lambda v: v == 0,
    ".ifgt": lambda v: v > 0, ".ifge": lambda v: v >= 0,
    ".iflt": lambda v: v < 0, ".ifle": lambda v: v <= 0,
}  # fmt: skip
_IFS = frozenset(
    (*_COMPARISONS, ".ifdef", ".ifndef", ".ifnotdef", ".ifb", ".ifnb", ".ifc", ".ifnc")
)
_CONDITIONALS = _IFS | {".else", ".elseif", ".endif"}
_END = re.compile(r"\.end(?![\w.$])", re.A)  # `.end`, and `.end|` (GNU as reads `.end`)


@dataclass(frozen=True)
class Stmt:
    """One statement: its text without comments, and the source line it came from."""

    lineno: int
    text: str
    line: str


def statements(source: str, consts: dict[str, int]) -> list[Stmt]:
    """All statements of `source` after macro, `.rept` and `.irp` expansion."""
    raw_lines = source.split("\n")
    if "\0" in source:
        lineno = source[: source.index("\0")].count("\n") + 1
        line = raw_lines[lineno - 1].strip()
        raise SourceError("NUL byte in the source (GNU as ends a statement there)", lineno, line)
    clean = _COMMENT.sub(_blank_comment, source).split("\n")
    stmts = []
    for number, (text, raw) in enumerate(zip(clean, raw_lines, strict=True), start=1):
        for piece in split_statements(text):
            if piece:
                stmts.append(Stmt(number, piece, raw.strip()))
    return _Expander(consts).run(stmts)


def _blank_comment(match: re.Match) -> str:
    """Keep strings; turn a comment into a space, keeping its newlines for line numbers.

    A character constant becomes its decimal value, as GNU as's input scrubber
    (app.c) writes it before anything else reads the line: so `'\101` is 49
    followed by the digits 01 (4901), and `' ` is 32 however the line is split.
    One whose character is not ASCII, or that spans a line, is left as written.
    """
    text = match.group()
    if text[0] == "'" and text.isascii() and "\n" not in text:
        return str(char_value(text))
    if text[0] in "\"'":
        return text
    return " " + "\n" * text.count("\n")


def split_statements(text: str) -> list[str]:
    """Split a line at `;` outside strings and character constants."""
    pieces, start = [], 0
    for match in _SEPARATOR.finditer(text):
        if match.group() == ";":
            pieces.append(text[start : match.start()].strip())
            start = match.end()
    pieces.append(text[start:].strip())
    return pieces


def split_labels(text: str) -> tuple[list[str], str]:
    """Leading `name:` labels of a statement, and the rest of it (nothing if that is a
    `/` comment: after the labels, GNU as is still at the start of the line)."""
    labels = []
    while match := _LABEL.match(text):
        labels.append(match.group(1))
        text = text[match.end() :]
    text = text.strip()
    return labels, "" if labels and text.startswith("/") else text


def first_word(text: str) -> tuple[str, str]:
    """Mnemonic or directive (lower case) and its operand text."""
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""


def split_args(text: str) -> list[str]:
    """Macro arguments: separated by commas or blanks, as GNU as allows both."""
    return [text[start:end] for start, end in arg_spans(text)]


def arg_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each macro argument in `text`."""
    spans, pos = [], _skip_blanks(text, 0)
    while pos < len(text):
        end = _arg_end(text, pos)
        spans.append((pos, end))
        pos = _skip_blanks(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_blanks(text, pos + 1)
    return spans


def _skip_blanks(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _arg_end(text: str, pos: int) -> int:
    depth, quote = 0, False
    while pos < len(text):
        char = text[pos]
        if char == '"':
            quote = not quote
        elif not quote and char in "([":
            depth += 1
        elif not quote and char in ")]":
            depth -= 1
        elif not quote and depth <= 0 and (char == "," or _separates(text, pos)):
            return pos
        pos += 1
    return pos


def _separates(text: str, pos: int) -> bool:
    """A blank ends an argument unless an operator touches it: `1 + 2` is one argument.

    GNU as's input scrubber drops such blanks before macro arguments are split.
    """
    if not text[pos].isspace():
        return False
    before = text[:pos].rstrip()[-1:]
    after = text[pos:].lstrip()[:1]
    return not (before and before in _OPERATORS) and not (after and after in _OPERATORS)


@dataclass(frozen=True)
class _Macro:
    name: str
    params: tuple[tuple[str, str, str], ...]  # (name, qualifier, default)
    body: tuple[Stmt, ...]


class _Expander:
    """Expands `.macro`, `.rept`, `.irp` and `.irpc` into plain statements."""

    def __init__(self, consts: dict[str, int]) -> None:
        self.consts = dict(consts)
        self.macros: dict[str, _Macro] = {}
        self.out: list[Stmt] = []
        self.invocations = 0
        self.depth = 0  # macro and repeat bodies being expanded
        self.macro_depth = 0  # of which macro bodies (where `.exitm` is allowed)
        self.exiting = False  # set by `.exitm` until the innermost macro body is left
        self.ended = False  # `.end`: GNU as reads nothing after it
        self.defined: set[str] = set()  # labels and symbols seen so far (for .ifdef)
        # One frame per open `.if`: [enclosing frames active, a branch taken, this branch on]
        self.conditions: list[list[bool]] = []

    def run(self, stmts: list[Stmt]) -> list[Stmt]:
        self.feed(stmts)
        if self.conditions:
            last = stmts[-1]
            raise SourceError("end of file inside a conditional ('.if' without '.endif')",
                              last.lineno, last.line)  # fmt: skip
        return self.out

    def active(self) -> bool:
        return not self.conditions or (self.conditions[-1][0] and self.conditions[-1][2])

    def conditional(self, word: str, args: str) -> None:
        """`.if`/`.ifdef`/... `.elseif`/`.else`/`.endif`, evaluated while reading as in
        GNU as: a skipped branch is not even parsed (only nested `.if`s are counted)."""
        if word in _IFS:
            outer = self.active()
            taken = outer and self.condition(word, args)
            self.conditions.append([outer, taken, taken])
            return
        if not self.conditions:
            raise SourceError(f"'{word}' without '.if'")
        frame = self.conditions[-1]
        if word == ".endif":
            self.conditions.pop()
        elif word == ".else":
            frame[2], frame[1] = not frame[1], True
        else:  # .elseif
            frame[2] = frame[0] and not frame[1] and self.condition(".if", args)
            frame[1] = frame[1] or frame[2]

    def condition(self, word: str, args: str) -> bool:
        if word in _COMPARISONS:
            return _COMPARISONS[word](self.constant(args, f"'{word}' condition"))
        if word in (".ifdef", ".ifndef", ".ifnotdef"):
            name = args.strip()
            if not SYMBOL.fullmatch(name):
                raise SourceError(f"'{word}' expects a symbol name, got '{name}'")
            return (name in self.defined or name in self.consts) == (word == ".ifdef")
        if word in (".ifb", ".ifnb"):
            return (not args.strip()) == (word == ".ifb")
        left, _, right = args.partition(",")
        return (_unquote(left) == _unquote(right)) == (word == ".ifc")

    def feed(self, stmts: list[Stmt] | tuple[Stmt, ...]) -> None:
        index = 0
        while index < len(stmts) and not (self.exiting or self.ended):
            stmt = stmts[index]
            try:
                index = self.dispatch(stmts, index)
            except SourceError as err:
                raise err.locate(stmt.lineno, stmt.line) from None

    def dispatch(self, stmts, index: int) -> int:
        """Handle statement `index`; return the index of the next one to look at."""
        stmt = stmts[index]
        labels, rest = split_labels(stmt.text)
        word, args = first_word(rest)
        if word in _CONDITIONALS:
            self.conditional(word, args)
            return index + 1
        if not self.active():
            return index + 1
        self.defined.update(labels)
        if ASSIGN.match(rest):  # `name = expr` even when the name is `.end` or `.irp`
            self.track_constant(rest)
            self.emit(stmt)
            return index + 1
        if _END.match(word):
            self.ended = True
            self.emit_labels(stmt, labels)
            return index + 1
        if word in _BLOCKS:
            end = _block_end(stmts, index, word)
            self.block(word, args, stmts[index + 1 : end])
            return end + 1
        if word in (".endm", ".endr"):
            raise SourceError(f"'{word}' without a matching block start")
        if word == ".exitm":
            if not self.macro_depth:
                raise SourceError("'.exitm' outside a macro")
            self.exiting = True
            return index + 1
        if word == ".purgem":
            if args.strip().lower() not in self.macros:
                raise SourceError(f".purgem of undefined macro '{args.strip()}'")
            del self.macros[args.strip().lower()]
            return index + 1
        if word in self.macros:
            self.emit_labels(stmt, labels)
            self.invoke(self.macros[word], args, stmt)
        else:
            self.track_constant(rest)
            self.emit(stmt)
        return index + 1

    def emit_labels(self, stmt: Stmt, labels: list[str]) -> None:
        """The labels of a statement whose rest is not passed on (a macro call, `.end`)."""
        if labels:
            self.emit(Stmt(stmt.lineno, " ".join(f"{name}:" for name in labels), stmt.line))

    def emit(self, stmt: Stmt) -> None:
        if len(self.out) >= MAX_STATEMENTS:
            raise SourceError(f"more than {MAX_STATEMENTS} statements after expansion")
        self.out.append(stmt)

    def block(self, word: str, args: str, body) -> None:
        if word == ".macro":
            self.define(args, tuple(body))
            return
        bindings = self.repetitions(word, args)
        if len(bindings) * len(body) + len(self.out) > MAX_STATEMENTS:
            raise SourceError(f"more than {MAX_STATEMENTS} statements after expansion")
        self.enter()
        for binding in bindings:
            if self.exiting:
                break
            self.feed([_substitute(line, binding, None) for line in body])
        self.depth -= 1

    def repetitions(self, word: str, args: str) -> list[dict[str, str]]:
        """One parameter binding per copy of a `.rept`, `.irp` or `.irpc` body."""
        if word == ".rept":
            count = self.constant(args)
            if count > MAX_STATEMENTS:
                raise SourceError(f".rept count {count} is more than {MAX_STATEMENTS}")
            return [{}] * max(count, 0)
        name, _, values = args.partition(",")
        if not SYMBOL.fullmatch(name.strip()):
            raise SourceError(f"missing model parameter in '{word}': '{name.strip()}'")
        items = list(values.strip()) if word == ".irpc" else split_args(values)
        return [{name.strip(): item} for item in items or [""]]

    def enter(self) -> None:
        """One more level of macro or repeat nesting; the limit keeps recursion bounded."""
        if self.depth >= MAX_MACRO_DEPTH:
            raise SourceError(f"macros and repeats nested more than {MAX_MACRO_DEPTH} deep")
        self.depth += 1

    def define(self, args: str, body: tuple[Stmt, ...]) -> None:
        name = re.split(r"[\s,]", args.strip(), maxsplit=1)[0]
        if not SYMBOL.fullmatch(name):
            raise SourceError(f"bad macro name '{name}'")
        if name.lower() in self.macros:
            raise SourceError(f"macro '{name}' was already defined")
        spec = args.strip()[len(name) :].strip().lstrip(",")
        self.macros[name.lower()] = _Macro(name, _parse_params(spec), body)

    def invoke(self, macro: _Macro, args: str, stmt: Stmt) -> None:
        binding = _bind(macro, args)
        counter = str(self.invocations)
        self.invocations += 1
        body = [_substitute(line, binding, counter) for line in macro.body]
        self.enter()
        self.macro_depth += 1
        self.feed([Stmt(stmt.lineno, line.text, stmt.line) for line in body])
        self.depth -= 1
        self.macro_depth -= 1
        self.exiting = False

    def track_constant(self, text: str) -> None:
        """Remember absolute `.set`s so a later `.rept COUNT` can use them."""
        if text[:1] != "." and "=" not in text:
            return  # an instruction: the common case, kept fast
        word, args = first_word(text)
        if word in (".set", ".equ", ".equiv", ".eqv"):
            name, _, expr = args.partition(",")
        elif match := ASSIGN.match(text):
            name, _, expr = match.groups()
        else:
            return
        self.defined.add(name.strip())
        try:
            self.consts[name.strip()] = self.constant(expr)
        except SourceError:
            self.consts.pop(name.strip(), None)

    def constant(self, text: str, what: str = "count") -> int:
        """Value of an expression made of numbers and absolute symbols only (the
        ``what`` of a directive: a `.rept` count, an `.if` condition)."""

        def lookup(name: str, written: str) -> Val:
            if name not in self.consts:
                raise SourceError(f"{what} must be an absolute expression, not '{written}'")
            return Val(self.consts[name])

        def absolute_only(*_args) -> str:
            raise SourceError(f"{what} must be an absolute expression")

        return evaluate(parse_expr(text, absolute_only), lookup, absolute_only).value


def _unquote(text: str) -> str:
    """An argument of `.ifc`: blanks around it dropped, one pair of quotes removed."""
    text = text.strip()
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] == "'" else text


def _block_end(stmts, index: int, word: str) -> int:
    """Index of the statement closing the block opened at `index` (nesting counted)."""
    opens, close, depth = _BLOCKS[word], _ENDS[word], 0
    for pos in range(index + 1, len(stmts)):
        inner = first_word(split_labels(stmts[pos].text)[1])[0]
        if inner in opens:
            depth += 1
        elif inner == close:
            if depth == 0:
                return pos
            depth -= 1
    raise SourceError(f"'{word}' without '{close}'")


def _parse_params(spec: str) -> tuple[tuple[str, str, str], ...]:
    parts = [part.strip() for part in spec.split(",")] if "," in spec else spec.split()
    params = []
    for part in parts:
        match = _PARAM.match(part)
        if not match:
            raise SourceError(f"bad macro parameter '{part}'")
        params.append((match.group(1), match.group(2) or "", (match.group(3) or "").strip()))
    return tuple(params)


def _bind(macro: _Macro, args: str) -> dict[str, str]:
    """Argument text for each parameter: positional, `name=value`, defaults, vararg."""
    names = [name for name, _, _ in macro.params]
    binding = {name: default for name, _, default in macro.params}
    positional = 0
    for start, end in arg_spans(args):
        arg = args[start:end]
        key, eq, value = arg.partition("=")
        if eq and key.strip() in names:
            binding[key.strip()] = value.strip()
            continue
        if positional >= len(names):
            raise SourceError(f"too many arguments for macro '{macro.name}'")
        name, qualifier, _ = macro.params[positional]
        if qualifier == "vararg":
            binding[name] = args[start:].strip()
            break
        binding[name] = arg
        positional += 1
    for name, qualifier, _ in macro.params:
        if qualifier == "req" and not binding[name]:
            raise SourceError(f"missing value for required parameter '{name}' of '{macro.name}'")
    return binding


def _substitute(stmt: Stmt, binding: dict[str, str], counter: str | None) -> Stmt:
    """Replace `\\param`, `\\()` and `\\@` in one body statement."""

    def replace(match: re.Match) -> str:
        token = match.group(1)
        if token == "()":
            return ""
        if token == "@":
            return counter if counter is not None else match.group()
        return binding.get(token, match.group())

    if "\\" not in stmt.text:
        return stmt
    return Stmt(stmt.lineno, _SUBST.sub(replace, stmt.text), stmt.line)
