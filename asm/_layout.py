"""Statements to items (once), then layout passes until every address is settled.

Relaxation is GNU as's relax_segment (gas/write.c), pass for pass: a first pass
lays the code out with every relaxable branch short; each later pass walks it in
order and grows a branch that cannot reach, judging what lies behind by this
pass's addresses and what lies ahead the way GNU as does (the previous address
plus the growth so far, unless an alignment lies between). Branches never
shrink. Layout is done when a pass changes nothing. Matching GNU as's order of
decisions matters: with alignments in play, other orders settle on other,
equally valid, layouts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from . import _attributes, _branch, _cfi, _lines, _merge, _mnemonics, _pic, _sections, _strings
from ._encode import PREFIXES, check_instruction
from ._errors import SourceError, UndefinedSymbolError
from ._expr import GOT_SYMBOL, Node, Val, evaluate, parse_expr, unescape
from ._items import (
    MAX_IMAGE,
    Align,
    Assign,
    Branch,
    Check,
    Data,
    Far,
    Fill,
    Insn,
    Label,
    Leb128,
    Org,
    OutputEnd,
    Raw,
    SectionStart,
    Skip,
    relocatable,
)
from ._operands import LocalLabelError, no_local, parse_operand, split_operands
from ._source import ASSIGN, SYMBOL, Stmt, first_word, split_labels

MAX_PASSES = 64
LOCAL_MARK = "\x02"  # joins a numeric label to its instance: `1:` -> "1\x022"
_STRING = re.compile(r'"((?:\\.|[^"\\])*)"', re.S)
_MNEMONIC = re.compile(r"[a-z][a-z0-9]*")
_IGNORED = (".code32",)
_SECTION_WORDS = frozenset(
    (
        ".text",
        ".data",
        ".bss",
        ".section",
        ".pushsection",
        ".popsection",
        ".previous",
        ".subsection",
    )
)
_PORT_IO = re.compile(r"(?:in|out)s?[bwl]?")
_BARE_STRING = frozenset(("stos", "movs", "lods", "scas", "cmps", "ins", "outs"))


@dataclass
class Statement:
    """A source statement, what it became, and whether it defines a label (for Image.lines)."""

    stmt: Stmt
    items: list
    labelled: bool
    place: tuple[str, int] = (".text", 0)
    instruction: bool = False  # for the line table
    order: int = -1  # in the source


class Program:
    """The source as items, with the facts every pass needs about its symbols."""

    def __init__(self, stmts: list[Stmt], defines: dict[str, int]) -> None:
        self.defines = defines
        self.labels: set[str] = set()
        self.sets: set[str] = set()
        self.fixed: set[str] = set()  # `.equiv` symbols: never redefined
        # Per (section, subsection): how many statements put something there, and
        # where each label was defined, so that `a:` twice at one spot is allowed.
        self.filled: dict[tuple[str, int], int] = {}
        self.label_spots: dict[str, tuple[tuple[str, int], int]] = {}
        self.globals: set[str] = set()
        self.local_counts: dict[str, int] = {}
        self.frag_regions: dict[int, int] = {0: 0}
        self.unwind = _cfi.Unwind()
        self.line_info = _lines.LineInfo()
        self.row_sections: list[str] = []  # sections in the order their first rows came
        self.sections = _sections.Sections()
        self.place_override: tuple[str, int] | None = None
        self.label_sections: dict[str, str] = {}
        self.must_define: set[str] = set()
        self.got = _pic.Got()
        self.merged_labels: set[str] = set()
        self.instructions = 0  # statements that are instructions, so far
        self.read = 0  # statements read
        statements = [self.classify_located(stmt) for stmt in stmts]
        if stmts:
            statements += self.linker_sections(stmts[-1])
            statements += self.line_sections(stmts[-1], statements)
            try:
                self.unwind.finish()
                self.check_visibility()
            except SourceError as err:
                raise err.locate(stmts[-1].lineno, stmts[-1].line) from None
        self.sets |= self.line_info.view_symbols
        self.statements = self.lay_out_sections(self.merge_sections(statements))
        self.outputs = frozenset(_sections.output_of(st.place[0]) for st in self.statements)
        self.empty_outputs = self.outputs - {
            _sections.output_of(st.place[0])
            for st in self.statements
            if any(not isinstance(item, _NO_BYTES) for item in st.items)
        }

    def linker_sections(self, last: Stmt) -> list[Statement]:
        """The GOT sections PIC code needs (see _pic.py), after everything else."""
        try:
            made = self.got.sections(self.label)
        except SourceError as err:
            raise err.locate(last.lineno, last.line) from None
        where = Stmt(last.lineno, "", "")
        for place, items in made:
            for item in items:
                if isinstance(item, Label):
                    self.label_sections[item.name] = place[0]
        return [Statement(where, items, False, place) for place, items in made]

    def line_sections(self, last: Stmt, statements: list[Statement]) -> list[Statement]:
        """The `.debug_line` GNU as writes for `.loc` rows (after what the source put
        there: nothing, as GNU as requires) and, for a version 5 header, the names it
        adds to `.debug_line_str`."""
        info = self.line_info
        if not info.used:
            return []
        where = Stmt(last.lineno, "", "")
        try:
            if any(st.place[0] == ".debug_line" and st.items for st in statements if not
                   all(isinstance(item, _NO_FRAGMENT) for item in st.items)):  # fmt: skip
                raise SourceError("'.loc' with bytes of the source's own in .debug_line")
            made = []
            if info.files.version == 5:
                self.sections.switch(".debug_line_str", 0, ['"MS"', "@progbits", "1"], int)
                items: list = []
                for index, data in enumerate(_lines.line_str_statement_strings(info.files)):
                    items += [Label(self.label(f"{_lines.LINE_STR_LABEL}{index}")), Raw(data)]
                made.append(Statement(where, items, False, (".debug_line_str", 0)))
            self.sections.switch(".debug_line")
            program = _lines.LineProgram(info.files, self.row_sections)
            made.append(Statement(where, [program], False, (".debug_line", 0)))
        except SourceError as err:
            raise err.locate(last.lineno, last.line) from None
        for statement in made:
            for item in statement.items:
                if isinstance(item, Label):
                    self.label_sections[item.name] = statement.place[0]
        return made

    def check_visibility(self) -> None:
        """ld refuses a hidden (or protected, internal) symbol that nothing defines."""
        for name in sorted(self.must_define - self.labels - self.sets - set(self.defines)):
            raise SourceError(f"hidden symbol '{name}' isn't defined")

    def lay_out_sections(self, statements: list[Statement]) -> list[Statement]:
        """Statements in image order, each input section opened by its alignment (GNU
        ld aligns every input section to the largest alignment asked for in it, and
        an output section to the largest of its inputs')."""
        if all(statement.place == (".text", 0) for statement in statements):
            return statements
        ordered = sorted(statements, key=lambda st: self.sections.order_key(st.place))
        alignments: dict[str, int] = {}
        for statement in statements:
            for item in statement.items:
                if isinstance(item, Align) and isinstance(item.alignment, int):
                    alignments[statement.place[0]] = max(
                        alignments.get(statement.place[0], 1), _boundary(item)
                    )
        outputs: dict[int, int] = {}
        for name, boundary in alignments.items():
            output = _sections.output_of(name)
            outputs[output] = max(outputs.get(output, 1), boundary)
        result, current, output = [], None, None
        for statement in ordered:
            name = statement.place[0]
            if name != current:
                rank = _sections.output_of(name)
                boundary, first = alignments.get(name, 1), rank != output
                if first:
                    if output == _sections.BSS:
                        result.append(self.bss_end(result[-1]))
                    boundary, output = max(boundary, outputs.get(rank, 1)), rank
                code = self.sections.attributes_of(name).code
                start = SectionStart(name, boundary, rank, first, code)
                where = Stmt(statement.stmt.lineno, "", "")
                result.append(Statement(where, [start], False, statement.place))
                current = name
            result.append(statement)
        if output == _sections.BSS:
            result.append(self.bss_end(result[-1]))
        return result

    def merge_sections(self, statements: list[Statement]) -> list[Statement]:
        """Mergeable sections as ld leaves them (_merge.py): each one's kept entries as
        bytes, with its labels (and those ld moved into it) where ld puts them."""
        merging: dict[str, list[Statement]] = {}
        for statement in statements:
            if self.sections.attributes_of(statement.place[0]).entsize:
                merging.setdefault(statement.place[0], []).append(statement)
        groups: dict[tuple, list[_merge.Input]] = {}
        for name in sorted(merging, key=self.sections.first_use.__getitem__):
            found = sorted(merging[name], key=lambda st: st.place[1])
            section = self.merge_input(name, found)
            try:
                taken = _merge.mergeable(section)
            except SourceError as err:
                raise err.locate(found[0].stmt.lineno, found[0].stmt.line) from None
            if taken:
                key = (_sections.output_of(name), section.strings, section.entsize)
                groups.setdefault((*key, section.alignment), []).append(section)
            else:
                del merging[name]
        if not groups:
            return statements
        inputs = [section for group in groups.values() for section in group]
        for group in groups.values():
            _merge.merge(group)
        placed: dict[str, list[tuple[int, str]]] = {section.name: [] for section in inputs}
        for section in inputs:
            for offset, label in section.labels:
                try:
                    where, at = _merge.place_of(section, offset)
                except SourceError as err:
                    first = merging[section.name][0].stmt
                    raise err.locate(first.lineno, first.line) from None
                placed[where].append((at, label))
                self.label_sections[label] = where
                self.merged_labels.add(label)
        result = [st for st in statements if st.place[0] not in merging]
        for section in inputs:
            if section.kept:  # ld drops a section whose entries all went elsewhere
                where = merging[section.name][0].stmt
                items = _merged_items(section, placed[section.name])
                result.append(Statement(where, items, True, (section.name, 0)))
        return result

    def merge_input(self, name: str, found: list[Statement]) -> _merge.Input:
        attributes = self.sections.attributes_of(name)
        try:
            data, labels = _merge.contents(name, found)
        except SourceError as err:
            raise err.locate(found[0].stmt.lineno, found[0].stmt.line) from None
        alignment = max(
            [_boundary(item) for st in found for item in st.items if isinstance(item, Align)] or [1]
        )
        return _merge.Input(name, data, labels, alignment, attributes.entsize, attributes.strings)

    @staticmethod
    def bss_end(last: Statement) -> Statement:
        return Statement(
            Stmt(last.stmt.lineno, "", ""), [OutputEnd(_sections.BSS, 4)], False, last.place
        )

    def classify_located(self, stmt: Stmt) -> Statement:
        before, self.read = self.instructions, self.read + 1
        try:
            labels, rest = split_labels(stmt.text)
            place = self.sections.current
            items = [Label(self.label(name)) for name in labels]
            for item in items:
                self.label_sections[item.name] = place[0]
            if rest:
                items += self.body(rest)
            if self.place_override:
                place, self.place_override = self.place_override, None
            if any(isinstance(item, _lines.Row) for item in items):
                if place[0] not in self.row_sections:
                    self.row_sections.append(place[0])
            if any(not isinstance(item, _NO_FRAGMENT) for item in items):
                self.filled[place] = self.filled.get(place, 0) + 1
            instruction = self.instructions > before
            return Statement(stmt, items, bool(labels), place, instruction, self.read)
        except SourceError as err:
            raise err.locate(stmt.lineno, stmt.line) from None

    def label(self, name: str) -> str:
        if name.isdigit():
            number = str(int(name))
            self.local_counts[number] = self.local_counts.get(number, 0) + 1
            return f"{number}{LOCAL_MARK}{self.local_counts[number]}"
        spot = (self.sections.current, self.filled.get(self.sections.current, 0))
        if name in self.labels and self.label_spots[name] == spot:
            return name  # GNU as allows it where nothing lies between (same frag, offset)
        if name in self.labels or name in self.fixed:
            raise SourceError(f"symbol '{name}' is already defined")
        # The source's own definition wins over an external one, as an object's
        # does when linked (a loaded file's memcpy over the kernel's).
        self.defines.pop(name, None)
        self.labels.add(name)  # after `.set`/`=`, the name becomes this label from here
        self.label_spots[name] = spot
        return name

    def local(self, number: str, direction: str) -> str:
        """Resolve `1b` to the latest `1:` so far and `1f` to the next one."""
        number = str(int(number))
        count = self.local_counts.get(number, 0)
        if direction == "b" and not count:
            raise SourceError(f"undefined symbol '{number}b'")
        return f"{number}{LOCAL_MARK}{count + (direction == 'f')}"

    def expr(self, text: str) -> Node:
        node = parse_expr(text, self.local)
        if "@" in text or GOT_SYMBOL in text:
            self.got.note(node)
        return node

    def body(self, text: str) -> list:
        match = ASSIGN.match(text)
        if match:
            how = "=" if match.group(2) == "=" else ".eqv"
            return [self.assign(match.group(1), match.group(3), how)]
        word, args = first_word(text)
        if word.startswith("."):
            return self.directive(word, args)
        self.instructions += 1
        return self.line_info.attach(self.instruction(text))

    def assign(self, name: str, expr: str, how: str) -> Assign:
        name = name.strip()
        if not SYMBOL.fullmatch(name):
            raise SourceError(f"bad symbol name '{name}'")
        if name in self.labels or (how in (".equiv", ".eqv") and name in self.sets):
            raise SourceError(f"symbol '{name}' is already defined")
        node = _assigned(name, expr, how, self.expr)
        self.sets.add(name)
        if how in (".equiv", ".eqv"):
            self.fixed.add(name)
        return Assign(name, node)

    def directive(self, word: str, args: str) -> list:
        handler = _DIRECTIVES.get(word)
        if handler is not None:
            return handler(self, word, split_operands(args))
        if word in _SECTION_WORDS:
            self.sections.directive(word, split_operands(args), self.absolute)
            return []
        if word in (".comm", ".lcomm"):
            return self.common(word, split_operands(args))
        if word.startswith(".cfi_"):
            return self.unwind.directive(
                word, split_operands(args), self.sections.current, self.expr
            )
        if word == ".file":
            self.line_info.file(args)
            return []
        if word == ".loc":
            return self.line_info.loc(args)
        if word == ".ident":
            _attributes.check_ident(args)
            return []
        if word in _IGNORED:
            return []
        if word in (".code16", ".code16gcc"):
            raise SourceError(f"'{word}': 16-bit code is not supported (the image is 32-bit)")
        raise SourceError(f"unsupported directive '{word}'")

    def absolute(self, text: str) -> int:
        """A number known while reading (a subsection number)."""

        def no_symbols(name: str, written: str) -> Val:
            raise SourceError(f"'{written}': a number is needed here")

        val = evaluate(self.expr(text), no_symbols, lambda: Val(0, 1))  # `.` is an address
        if val.sect:
            raise SourceError(f"bad or irreducible absolute expression '{text}'")
        return val.value

    def common(self, word: str, args: list[str]) -> list:
        """`.comm name, size[, align]` (placed after .bss, as ld does with COMMON) and
        `.lcomm name, size[, align]` (placed in .bss)."""
        if len(args) not in (2, 3) or not SYMBOL.fullmatch(args[0]):
            raise SourceError(f"'{word}' expects 'name, size[, alignment]'")
        size = self.absolute(args[1])
        align = self.absolute(args[2]) if len(args) == 3 else (4 if size >= 4 else 1)
        if align & (align - 1) or align <= 0:
            raise SourceError(f"alignment {align} of '{args[0]}' is not a power of 2")
        place = (_sections.COMMON, 0) if word == ".comm" else (".bss", 0)
        self.place_override = place
        self.label_sections[args[0]] = place[0]
        return [Align(False, align, 0, None), Label(self.label(args[0])), Skip(size, None)]

    def instruction(self, text: str) -> list:
        """An instruction's items.  Unrolled code repeats instructions, so one parse
        serves each text (a branch gets its own item: relaxation grows it in place),
        except where the text's meaning depends on where it is: a local label (`1f`)
        or a PIC form."""
        if "@" in text or GOT_SYMBOL in text:
            return _instruction(text, self.local, self)
        try:
            items = _instruction_alone(text)
        except LocalLabelError:
            return _instruction(text, self.local, self)
        return [replace(item) if isinstance(item, Branch) else item for item in items]


def _boundary(item: Align) -> int:
    return 1 << item.alignment if item.power else max(item.alignment, 1)


def _merged_items(section: _merge.Input, labels: list[tuple[int, str]]) -> list:
    """A merged section's statement: its alignment, then bytes with labels between."""
    data, at = _merge.emitted(section), 0
    items: list = [Align(False, section.alignment, 0, None)]
    for offset, label in sorted(labels, key=lambda pair: pair[0]):
        if offset > at:
            items.append(Raw(data[at:offset]))
            at = offset
        items.append(Label(label))
    if at < len(data):
        items.append(Raw(data[at:]))
    return items


def _instruction(text: str, local, program: Program | None) -> list:
    """The items of one instruction; `program` takes PIC forms' GOT needs (None: no
    `@` or `_GLOBAL_OFFSET_TABLE_` in the text)."""
    word, args = first_word(text)
    prefixes = []
    while word in PREFIXES:
        prefixes.append(word)
        word, args = first_word(args)
    if not word:
        return [Raw(bytes(PREFIXES[name] for name in prefixes))]
    if not _MNEMONIC.fullmatch(word) or _mnemonics.cut_short(word):
        if not word.isascii():
            raise SourceError(f"non-ASCII name '{word}': only ASCII symbol names are supported")
        raise SourceError(f"no such instruction: '{word}'")
    texts = split_operands(args)
    operands = [parse_operand(piece, local) for piece in texts]
    if not _PORT_IO.fullmatch(word) and any(op.base == "dx" for op in operands):
        raise SourceError(f"'(%dx)' is only the port operand of in/out/ins/outs, not of '{word}'")
    if "@" in args or GOT_SYMBOL in args:
        for operand in operands:
            program.got.note(operand.expr)
        _pic.check_operands(word, operands)
        operands, relaxed = _pic.got_instruction(word, operands, prefixes, program)
        if relaxed:
            return [relaxed]
    special = None if prefixes else _branch_item(word, operands)
    if special:
        return [special]
    operands = _implicit_star(word, operands)
    if not operands and word in _BARE_STRING:
        word += "l"  # GNU as warns and uses its default size; Keystone picks 16 bits
    prefix_bytes = tuple(PREFIXES[name] for name in prefixes)
    reduced = _strings.reduce(word, operands, texts) if len(texts) == len(operands) else None
    if reduced:
        word, operands, prefix_bytes = reduced[0], [], prefix_bytes + reduced[1]
    check_instruction(prefixes, word, operands)
    return [Insn(word, operands, prefix_bytes)]


@functools.lru_cache(maxsize=8192)
def _instruction_alone(text: str) -> tuple:
    """_instruction for a text that names no local label (LocalLabelError if it does)."""
    return tuple(_instruction(text, no_local, None))


# Items that leave GNU as's current fragment and offset as they are.
_NO_FRAGMENT = (Label, Assign, Check, _lines.Row, _cfi.Directive)
_PADDING = frozenset((SectionStart, OutputEnd))
# Items that put nothing in a section of their own (an alignment pads only after bytes).
_NO_BYTES = (
    Label, Assign, Check, Align, SectionStart, OutputEnd, _pic.GotBase, _lines.Row, _cfi.Directive
)  # fmt: skip


def _assigned(name: str, expr: str, how: str, parse) -> Node:
    """The expression given to a symbol, parsed; what GNU as would give it but we
    cannot is refused by name."""
    if expr.lstrip().startswith("%"):
        raise SourceError(f"symbol '{name}' set to a register ({expr.strip()}) is not supported")
    node = parse(expr)
    if how == ".eqv" and not _numbers_only(node):
        # GNU as reads an .eqv expression's symbols (and `.`) again at each use
        raise SourceError(f"'.eqv' ('{name} ==') of an expression with symbols is not supported")
    return node


def _numbers_only(node: Node) -> bool:
    if isinstance(node, int):
        return True
    if node[0] in ("un", "bin"):
        return all(_numbers_only(part) for part in node[2:])
    return False


def _branch_item(word: str, operands: list) -> Branch | Far | None:
    if word in _branch.BRANCHES and len(operands) == 1:
        target = operands[0]
        if target.kind == "mem" and target.seg and not target.star:
            raise SourceError(f"segment prefix on a direct '{word}' (GNU as skips it): drop it")
        if target.kind == "mem" and not (target.star or target.addressed or target.seg):
            return Branch(word, target.expr)
    if word in _branch.FAR and len(operands) == 2 and all(op.kind == "imm" for op in operands):
        return Far(word, operands[0].expr, operands[1].expr)
    return None


def _implicit_star(word: str, operands: list) -> list:
    """`call %eax` means `call *%eax` (GNU as warns "indirect call without `*'")."""
    if word in ("jmp", "call", "calll") and len(operands) == 1 and operands[0].kind != "imm":
        return [replace(operands[0], star=True)]
    return operands


def _data(program: Program, word: str, args: list[str]) -> list:
    width = {".byte": 1, ".word": 2, ".short": 2, ".value": 2, ".2byte": 2, ".long": 4,
             ".int": 4, ".4byte": 4, ".quad": 8, ".8byte": 8}[word]  # fmt: skip
    exprs = [program.expr(arg) for arg in args]
    if width != 4 and any("gotpc" in _pic.kinds(expr) for expr in exprs):
        raise SourceError(f"'{GOT_SYMBOL}' in '{word}' is not supported (only in .long)")
    return [Data(width, exprs)] if args else []


def _leb128(program: Program, word: str, args: list[str]) -> list:
    return [Leb128(word == ".sleb128", [program.expr(arg) for arg in args])] if args else []


def _ascii(program: Program, word: str, args: list[str]) -> list:
    if not args:
        # GNU as reads the next line as its operand (and takes it only at the end)
        raise SourceError(f"{word} without a string is not supported")
    data = b""
    for arg in args:
        match = _STRING.fullmatch(arg)
        if not match:
            raise SourceError(f"{word} expects quoted strings, got '{arg}'")
        data += unescape(match.group(1)) + (b"" if word == ".ascii" else b"\0")
    return [Raw(data)]


def _optional(program: Program, args: list[str], index: int) -> Node | None:
    return program.expr(args[index]) if len(args) > index and args[index] else None


def _align(program: Program, word: str, args: list[str]) -> list:
    """`.align`/`.balign`/`.p2align`, and their `w`/`l` forms, whose fill is a 2- or
    4-byte pattern; with no argument at all GNU as aligns to nothing."""
    if len(args) > 3:
        raise SourceError(f"{word} takes 1 to 3 arguments")
    if not args:
        return []
    width = {"w": 2, "l": 4}.get(word[-1], 1)
    alignment = program.expr(args[0])
    fill, maximum = (_optional(program, args, i) for i in (1, 2))
    if len(args) == 2 and not args[1]:
        fill = 0  # GNU as: a trailing comma with no fill means a fill of 0, not no-ops
    if width > 1 and fill is None:
        raise SourceError(f"expected fill pattern missing in '{word}' (GNU as only warns)")
    return [Align(word.startswith(".p2"), alignment, fill, maximum, width)]


def _fill(program: Program, word: str, args: list[str]) -> list:
    if len(args) > 3:
        raise SourceError(".fill takes 1 to 3 arguments")
    if not args:
        return []  # GNU as: a `.fill` of nothing
    # GNU as reads a size left empty after its comma (`.fill 1,,3`) as 0, not as 1.
    size = _optional(program, args, 1) if len(args) < 2 or args[1] else 0
    return [Fill(program.expr(args[0]), size, _optional(program, args, 2))]


def _org(program: Program, word: str, args: list[str]) -> list:
    if not args or len(args) > 2:
        raise SourceError(".org takes 1 or 2 arguments")
    return [Org(program.expr(args[0]), _optional(program, args, 1))]


def _skip(program: Program, word: str, args: list[str]) -> list:
    if len(args) > 2:
        raise SourceError(f"{word} takes 1 or 2 arguments")
    if not args:
        return []  # GNU as: a `.skip` of nothing
    return [Skip(program.expr(args[0]), _optional(program, args, 1))]


def _set(program: Program, word: str, args: list[str]) -> list:
    if len(args) != 2:
        raise SourceError(f"{word} expects 'name, expression'")
    return [program.assign(args[0], args[1], word)]


def _globl(program: Program, word: str, args: list[str]) -> list:
    program.globals.update(_attributes.symbol_names(word, args))
    return []


def _symbol_attribute(program: Program, word: str, args: list[str]) -> list:
    """`.hidden`, `.weak` and the like: symbol-table facts, no bytes."""
    if word != ".extern":
        names = _attributes.symbol_names(word, args)
        if word in (".hidden", ".protected", ".internal"):
            program.must_define.update(names)
    return []


def _type(program: Program, word: str, args: list[str]) -> list:
    _attributes.check_type(args)
    return []


def _size(program: Program, word: str, args: list[str]) -> list:
    return [Check(program.expr(_attributes.check_size(args)), f".size of {args[0]}")]


_DIRECTIVES = dict.fromkeys(
    (".byte", ".word", ".short", ".value", ".2byte", ".long", ".int", ".4byte", ".quad", ".8byte"),
    _data,
)
_DIRECTIVES.update(dict.fromkeys((".ascii", ".asciz", ".string"), _ascii))
_DIRECTIVES.update(dict.fromkeys((".uleb128", ".sleb128"), _leb128))
_DIRECTIVES.update(
    dict.fromkeys(
        (".align", ".balign", ".p2align", ".balignw", ".balignl", ".p2alignw", ".p2alignl"),
        _align,
    )
)
_DIRECTIVES.update(dict.fromkeys((".set", ".equ", ".equiv", ".eqv"), _set))
_DIRECTIVES.update(dict.fromkeys((".globl", ".global"), _globl))
_DIRECTIVES.update(
    dict.fromkeys((".hidden", ".protected", ".internal", ".local", ".weak", ".extern"),
                  _symbol_attribute)
)  # fmt: skip
_DIRECTIVES.update({".type": _type, ".size": _size})
_DIRECTIVES.update({".org": _org, ".fill": _fill, ".skip": _skip, ".space": _skip, ".zero": _skip})


class Pass:
    """One layout pass: the address, symbol values so far, and what may still change.

    The first pass is GNU as's initial estimate (every relaxable branch short);
    each later pass is one round of its relax_segment (gas/write.c).
    """

    def __init__(self, program: Program, origin: int, previous: Pass | None) -> None:
        self.program, self.origin, self.addr = program, origin, origin
        self.prev = previous.env if previous else {}
        self.prev_addrs = previous.item_addrs if previous else []
        self.estimating = previous is None
        self.frag = self.region = 0
        self.section = ".text"
        self.section_start = origin
        # Where each section starts: this pass's as far as it got, else the last's.
        self.section_starts: dict[str, int] = dict(previous.section_starts) if previous else {}
        # `.set` symbols whose expression names an undefined symbol: an error only
        # where they are used (GNU as leaves an unused one alone).
        self.undefined: dict[str, SourceError] = dict(previous.undefined) if previous else {}
        self.in_bss, self.in_code, self.output = False, True, _sections.TEXT
        # Output sections with nothing in them, which ld drops: as the last pass
        # found them (or as the items promise, at first); checked when this one ends.
        self.empty_outputs = previous.found_empty if previous else program.empty_outputs
        self.output_bytes: dict[int, int] = {}
        self.found_empty: frozenset[int] = frozenset()
        self.frag_sections: dict[int, str] = {0: ".text"}
        self.rows = _lines.PassRows()
        self.cfi = _cfi.PassFrames()
        self.env: dict[str, Val] = {}
        self.grew = self.guessed = self.unsettled = self.guess_here = False
        self.stmt: Stmt | None = None
        self.deferred: list[SourceError] = []
        self.chunks: list[tuple[int, bytes]] = []
        self.item_addrs: list[int] = []
        self.forward_frags: list[int] = []

    def lookup(self, name: str, written: str) -> Val:
        if name in self.env:
            return self.env[name]
        if name in self.program.defines:
            return Val(self.program.defines[name])
        if name in self.undefined:
            raise self.undefined[name]
        forward = ((f"s:{name}", 1),)
        if name in self.prev:
            old = self.prev[name]
            self.forward_frags += [int(key[1:]) for key, _ in old.terms if key[0] == "f"]
            return Val(old.value, old.sect, forward)
        if name in self.program.labels or (LOCAL_MARK in name and _defined_local(self, name)):
            return self.guess(Val(self.addr, 1, forward))
        if name in self.program.sets:
            return self.guess(Val(0, 0, forward))
        if LOCAL_MARK in name:
            raise UndefinedSymbolError(f"local label '{written}' is not defined", local=True)
        raise UndefinedSymbolError(f"undefined symbol '{written}'")

    def guess(self, val: Val) -> Val:
        """A forward reference not laid out yet: this pass cannot be the last."""
        self.guessed = self.guess_here = True
        return val

    def dot(self) -> Val:
        return Val(self.addr, 1, ((f"f{self.frag}", 1),))

    def value(self, node: Node) -> Val:
        return evaluate(node, self.lookup, self.dot, self.base)

    def base(self, val: Val) -> tuple[str, int]:
        """The section an address lies in (by its first label term) and its start."""
        for key, coeff in val.terms:
            section = self.term_section(key) if coeff > 0 else None
            if section is not None:
                return section, self.section_starts.get(section, self.origin)
        return self.section, self.section_start

    def constant(self, node: Node, what: str) -> int:
        val = self.value(node)
        if val.sect or not all(key == "?r" for key, _ in val.terms):
            raise SourceError(f"{what} must be an absolute expression")
        return val.value

    def define_label(self, name: str) -> None:
        # A label ld moved (a mergeable section's) is its own term: no difference of
        # two such labels folds to a number, as GNU as would fold it before ld moves them.
        key = f"m:{name}" if name in self.program.merged_labels else f"f{self.frag}"
        self.env[name] = Val(self.addr, 1, ((key, 1),))

    def new_frag(self, after_alignment: bool) -> None:
        """GNU as starts a new fragment after a relaxable branch or an alignment;
        alignments also start a new relaxation region."""
        if after_alignment:
            self.rows.frag_fix_end[self.frag] = self.addr
        self.frag += 1
        self.region += after_alignment
        self.program.frag_regions[self.frag] = self.region
        self.frag_sections[self.frag] = self.section

    def enter_section(self, name: str, output: int) -> None:
        self.rows.section_ends[self.section] = self.addr
        self.section, self.output = name, output
        attributes = self.program.sections.attributes_of(name)
        self.in_bss, self.in_code = attributes.nobits, attributes.code
        self.new_frag(after_alignment=True)

    def term_section(self, key: str) -> str | None:
        """The section of a label term of a value (None for anything else)."""
        if key[0] == "f":
            return self.frag_sections.get(int(key[1:]))
        if key[:2] in ("s:", "m:"):
            return self.program.label_sections.get(key[2:])
        return None

    def in_other_section(self, val: Val) -> bool:
        """Whether a value names a label of another section: GNU as leaves that to a
        relocation, so a branch to it is never relaxed to the short form."""
        for key, _ in val.terms:
            section = self.term_section(key)
            if section is not None and section != self.section:
                return True
        return False

    def field(self, val: Val) -> Val:
        """A value for a data or instruction field.  GNU as resolves `a - b` only when
        b is in a's section or is in the current one (a pc-relative value); any other
        subtracted label cannot be written (`$ext-1b` with `1:` in .data)."""
        if all(coeff > 0 for _, coeff in relocatable(val).terms):
            return val  # nothing subtracted: the common case, kept fast
        net: dict[str, int] = {}
        for key, coeff in val.terms:
            if coeff < 0 and key[:2] in ("m:", "s:") and key[2:] in self.program.merged_labels:
                raise SourceError(
                    f"a difference with '{key[2:]}', in mergeable section "
                    f"'{_sections.shown(self.program.label_sections[key[2:]])}', is not "
                    "supported (ld moves it after GNU as has folded the difference)"
                )
            section = self.term_section(key)
            if section is not None and section not in _sections.LINKER_MADE:
                net[section] = net.get(section, 0) + coeff
        for section, count in net.items():
            if count < 0 and section != self.section:
                raise SourceError(
                    f"can't resolve a label of {_sections.shown(section)} subtracted "
                    f"in {_sections.shown(self.section)}"
                )
        return val

    def branch_target(self, node: Node) -> Val:
        self.forward_frags = []
        return self.value(node)

    def relax_estimate(self, target: int, displacement_at: int) -> int | None:
        """Where relax_frag (gas/write.c) believes a branch target is during this pass.

        A forward target has not moved yet; GNU as assumes it moves by the growth
        so far (stretch) unless an alignment lies between, in which case a target
        that would now look backwards keeps the branch as it is (None).
        """
        stretch = self.addr - self.prev_addrs[len(self.item_addrs) - 1]
        if not (self.forward_frags and stretch):
            return target
        regions = self.program.frag_regions
        if stretch < 0 or all(regions.get(frag) == self.region for frag in self.forward_frags):
            return target + stretch
        return None if target < displacement_at else target

    def report(self, message: str) -> None:
        """A value problem that matters only if this pass turns out to be the last."""
        self.deferred.append(SourceError(message, self.stmt.lineno, self.stmt.line))

    def run(self) -> None:
        for statement in self.program.statements:
            self.stmt, self.guess_here = statement.stmt, False
            start, first_item = self.addr, len(self.item_addrs)
            items = statement.items
            try:
                if len(items) == 1:
                    chunk = self.emit(items[0])
                else:
                    chunk = b"".join([self.emit(item) for item in items])
            except SourceError as err:
                if not self.guess_here:
                    raise err.locate(self.stmt.lineno, self.stmt.line) from None
                self.unsettled, chunk, self.addr = True, b"", start
                self.item_addrs[first_item:] = [start] * len(statement.items)
            if chunk:
                self.check_bytes(chunk, items[0])
            self.chunks.append((start, chunk))
            if self.addr - self.origin > MAX_IMAGE:
                raise SourceError("image larger than 16 MiB", self.stmt.lineno, self.stmt.line)

        self.found_empty = self.program.outputs - set(self.output_bytes)

    def check_bytes(self, chunk: bytes, first_item) -> None:
        """Bytes where the image can hold them; the output section counts them (not
        the padding before an input section, which ld adds only to a kept one)."""
        if type(first_item) in _PADDING:
            return
        where = (self.stmt.lineno, self.stmt.line)
        if self.in_bss and chunk.strip(b"\0"):
            raise SourceError(f"non-zero bytes in {_sections.shown(self.section)}", *where)
        if self.output == _sections.DROPPED:
            raise SourceError(f"bytes in {self.section}, which is not part of the image", *where)
        self.output_bytes[self.output] = self.output_bytes.get(self.output, 0) + len(chunk)

    def emit(self, item) -> bytes:
        self.item_addrs.append(self.addr)
        frag = self.frag
        data = item.emit(self)
        self.addr += len(data)
        if frag != self.frag:
            self.rows.frag_start = self.addr  # GNU as's next fragment starts after it
        return data

    def settled(self) -> bool:
        changed = self.grew or self.guessed or self.unsettled or self.env != self.prev
        return not (self.estimating or changed or self.found_empty != self.empty_outputs)


def _defined_local(p: Pass, name: str) -> bool:
    number, _, instance = name.partition(LOCAL_MARK)
    return int(instance) <= p.program.local_counts.get(number, 0)


def layout(program: Program, origin: int) -> Pass:
    """Run passes until nothing moves; return the final one."""
    previous = None
    for _ in range(MAX_PASSES):
        current = Pass(program, origin, previous)
        current.run()
        if current.settled():
            if current.deferred:
                raise current.deferred[0]
            return current
        previous = current
    last = program.statements[-1].stmt
    raise SourceError("branch relaxation did not converge", last.lineno, last.line)
