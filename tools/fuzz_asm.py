"""Differential fuzzing of asm.assembler against GNU `as --32` (+ ld).

For every generated source, our assembler must give an Image or an AsmError
quickly (anything else, a hang or a crash is a bug) and, where GNU binutils are
installed:
- every source we accept gives GNU's bytes at the same origin;
- every source GNU refuses, we refuse too;
- a source GNU accepts and we refuse must be refused by name: a construct we
  refuse whatever GNU does (NAMED_REFUSALS: TLS relocations, .code16, ...), or
  one GNU as itself warns about on the line we refuse (we refuse what GNU as
  only guesses at, such as a truncated value). The run prints how many fall in
  each category; one that nothing explains fails the run like a wrong byte.

Sources come from generators aimed at what matters for the bytes (addressing
modes with every base/index/scale/displacement shape, immediates in every radix,
string escapes, expressions, data and alignment directives) plus random token
soup and mutations of the differential corpus (tests/asm_unit/corpus.S). GNU
as runs once per batch of sources (tests/asm_unit/asm_gnu_ref.py); a source that
could disturb its neighbours in a batch (sections, blocks, unterminated quotes)
and any disagreement or refusal are checked again alone. The suite runs a seeded slice;
`make fuzz` runs it for longer:

    python tools/fuzz_asm.py --cases 20000 --seed 7
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "asm_unit"))

from asm_gnu_ref import (  # noqa: E402
    HAVE_GNU_AS,
    GnuAsError,
    gnu_verdict,
    gnu_verdicts,
    gnu_warnings,
)

from asm.assembler import AsmError, assemble  # noqa: E402
from kthreadd_emu.progress import NULL, progress_bar  # noqa: E402

CORPUS = ROOT / "tests" / "asm_unit" / "corpus.S"
CASE_SECONDS = 2.0
FUZZ_DEFINES = {"do_exit": 0xC0200040, "PT_EAX": 0x18, "THREAD_SIZE": 8192, "sys_table": 0x1000}

_TOKENS = (
    "movl addl subl jmp je jne call ret iret pushl popl lock rep nop int leal xchg cmpxchgl "
    "movb movw incl shll imull testl andl orl xorl cmpl ljmp lcall loop jecxz movzbl setne "
    "%eax %ebx %ecx %edx %esp %ebp %esi %edi %ax %al %ah %fs %gs %ds %cs %cr0 %st(1) %foo "
    "$ $0 $1 $-1 $0x7fffffff $0xffffffff $'a $1f $1b $. $do_exit $PT_EAX 0x 0b 08 'x '\\n "
    '( ) , ; : # /* */ * + - / % << >> & | ^ ~ ! == != < > = " \\ \\@ \\() . .. '
    "1: 1f 1b 2: foo: bar: .L1: foo bar do_exit 4(%esp) (%eax,%ebx,4) (,%eax,8) %fs:0x10 "
    ".text .data .section .bss .org .byte .word .long .quad .ascii .asciz .string .fill .skip "
    ".space .align .p2align .balign .set .equ .equiv .globl .type .size .macro .endm .rept "
    ".endr .irp .irpc .exitm .include .if .endif .code16 .hidden .weak .local .file .ident "
    ".loc .cfi_startproc .cfi_endproc .cfi_offset .cfi_def_cfa_offset @function "
    "99999999999999999999 -2147483648 4294967296 0x100000000 1000000 65536 256 31 32 64"
).split()
_DIRECTIVE_ARGS = ("", "0", "1", "3", "100000", "-1", "1,2", "1,,3", '"s"', "x, 1", "1 << 40")
_REGISTERS = (
    "eax ebx ecx edx esp ebp esi edi ax bx cx dx sp bp si di al bl cl dl ah bh ch dh "
    "cs ds es fs gs ss cr0 cr2 cr3 cr4 dr0 dr7 mm0 xmm0 st st(1)"
).split()
_NUMBERS = (
    "0",
    "1",
    "-1",
    "127",
    "128",
    "-129",
    "0x7fff",
    "0x10000",
    "0xffffffff",
    "do_exit",
    "PT_EAX",
    "1f",
    "0x100000000",
    "'a",
    "(1+2)",
    "THREAD_SIZE-1",
)
_CHARS = "abcdefxyz0123456789$%(),;:#*+-/<>=!~&|^'\"\\ .\t\n\x00\x7f\u00e9\u0663"


def load_lines(path: Path = CORPUS) -> list[str]:
    """Corpus statements, the seeds that mutations start from."""
    lines = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("##"):
            lines.append(line.strip())
    return lines


_MEM_MNEMONICS = (
    "movl leal addl subl cmpl andl orl xorl testl incl decl negl notl pushl popl "
    "movb addb cmpb movw addw movzbl movsbl movzwl imull shll sarl xchgl btl "
    "movss movsd movaps movdqu fldl fstpl fildl fistpl fnstcw cmpxchgl setne"
).split()
_MEM_SECOND = {"leal": "%eax", "movzbl": "%eax", "movsbl": "%eax", "movzwl": "%eax"}
_MEM_SECOND |= {"imull": "%eax", "movss": "%xmm1", "movsd": "%xmm1", "movaps": "%xmm1"}
_MEM_SECOND |= {"movdqu": "%xmm1", "cmpxchgl": "%ebx", "xchgl": "%ecx", "btl": "%edx"}
_ONE_OPERAND = frozenset(
    "incl decl negl notl pushl popl fldl fstpl fildl fistpl fnstcw setne".split()
)
_BASES = "eax ecx edx ebx esp ebp esi edi".split()
_BASES16 = "bx bp si di ax sp".split()
_DISPLACEMENTS = (
    "", "0", "1", "4", "-4", "127", "128", "-128", "-129", "0x7f", "0x80", "0xff", "255",
    "256", "0x7fffffff", "0x80000000", "0xffffffff", "-0x80000000", "-1", "012", "0b101",
    "do_exit", "PT_EAX", "PT_EAX+4", "sys_table-8", "THREAD_SIZE-1", "(1+2)*3", "ahead", ". - 4",
)  # fmt: skip
_IMM_INSNS = (
    ("movl", "%eax", 32), ("addl", "%ebx", 32), ("cmpl", "%ecx", 32), ("pushl", "", 32),
    ("andl", "%esi", 32), ("movw", "%ax", 16), ("addw", "%dx", 16), ("movb", "%al", 8),
    ("cmpb", "%dl", 8), ("int", "", 8), ("shll", "%eax", 8), ("imull", "%ecx, %edx", 32),
    ("testl", "%edi", 32), ("subl", "4(%esp)", 32), ("movl", "-8(%ebp)", 32),
)  # fmt: skip
_DATA = (".byte", ".word", ".short", ".long", ".int", ".quad", ".value", ".2byte", ".4byte")
_STRING_DIRECTIVES = (".ascii", ".asciz", ".string")
_ESCAPE_PIECES = (
    "\\n", "\\t", "\\b", "\\f", "\\r", "\\v", "\\a", "\\e", "\\\\", '\\"', "\\0", "\\7",
    "\\77", "\\777", "\\400", "\\8", "\\9", "\\99", "\\08", "\\x", "\\x4", "\\x41",
    "\\xfff", "\\X7F", "\\xg", "\\q", "\\'", "a", "Z", " ", "'", "#", ";", "/*", "\u00e9", "1",
)  # fmt: skip
_OPERATORS = ("+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "==", "!=", "<>", "<", "<=",
              ">", ">=", "&&", "||", "!")  # fmt: skip
_ALIGNS = (".align", ".balign", ".p2align", ".balignw", ".balignl", ".p2alignw", ".p2alignl")


def cases(count: int, seed: int, lines: list[str]) -> Iterator[str]:
    """`count` sources, the same ones for the same seed."""
    generator = _Generator(random.Random(seed), lines)
    makers = (
        generator.addressing,
        generator.addressing,
        generator.addressing,
        generator.immediate,
        generator.immediate,
        generator.string,
        generator.expression,
        generator.expression,
        generator.data_directive,
        generator.attribute,
        generator.mutated,
        generator.mutated,
        generator.spliced,
        generator.soup,
        generator.directive,
        generator.instruction,
    )
    for _ in range(count):
        yield generator.rng.choice(makers)()


class _Generator:
    """Makes one fuzz source per call; all randomness comes from `rng`."""

    def __init__(self, rng: random.Random, lines: list[str]) -> None:
        self.rng, self.lines, self.serial = rng, lines, 0
        self.mnemonics = sorted({line.split()[0] for line in lines if line[0].isalpha()})

    def number(self) -> str:
        """A number in a random radix and spelling, sometimes one GNU as refuses."""
        rng = self.rng
        value = rng.choice((0, 1, 7, 8, 42, 127, 128, 255, 256, 0x7FFF, 0x8000, 0xFFFF,
                            0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32,
                            rng.randrange(1 << 33)))  # fmt: skip
        spelled = rng.choice((
            str(value), hex(value), hex(value).upper().replace("X", "x"), "0X" + f"{value:x}",
            "0b" + f"{value:b}", "0B" + f"{value:b}", "0" + f"{value:o}", "0" + str(value),
            "0x", "0b2", "'" + rng.choice("a0 \\"), "'\\n", "'a'",
        ))  # fmt: skip
        return rng.choice(("", "", "-", "~", "+", "- ")) + spelled

    def addressing(self) -> str:
        """One instruction with a memory operand of a random shape."""
        rng = self.rng
        word = rng.choice(_MEM_MNEMONICS)
        regs = _BASES16 if rng.random() < 0.08 else _BASES
        base = rng.choice(("",) + tuple(regs))
        index = rng.choice(("", "", *regs))
        scale = rng.choice(("", "", "1", "2", "4", "8", "3", "0", "16"))
        disp = rng.choice(_DISPLACEMENTS)
        seg = rng.choice(("",) * 6 + ("%fs:", "%gs:", "%es:", "%cs:", "%ss:", "%ds:"))
        inner = f"%{base}" if base else ""
        if index or scale:
            inner += f",%{index}" if index else ","
            inner += f",{scale}" if scale else ""
        memory = f"{seg}{disp}({inner})" if inner or rng.random() < 0.3 else f"{seg}{disp or '0'}"
        memory = memory.replace(",", rng.choice((",", ", ", " , ")))
        operands = memory
        if word not in _ONE_OPERAND:
            other = _MEM_SECOND.get(word, rng.choice(("%eax", "%edx", "$1", "$0x12345678")))
            operands = f"{other}, {memory}" if rng.random() < 0.5 else f"{memory}, {other}"
            if word in _MEM_SECOND:
                operands = f"{memory}, {other}"
        name = self.fresh("ahead")
        return f"{word} {operands.replace('ahead', name)}\n{name}: nop"

    def immediate(self) -> str:
        word, dest, bits = self.rng.choice(_IMM_INSNS)
        value = self.number()
        if self.rng.random() < 0.3:
            return f"{self.rng.choice(_DATA)} {value}"
        return f"{word} ${value}, {dest}" if dest else f"{word} ${value}"

    def string(self) -> str:
        rng = self.rng
        pieces = [rng.choice(_ESCAPE_PIECES) for _ in range(rng.randint(0, 8))]
        strings = ['"' + "".join(pieces) + '"' for _ in range(rng.randint(1, 2))]
        return f"{rng.choice(_STRING_DIRECTIVES)} {', '.join(strings)}"

    def fresh(self, stem: str) -> str:
        """A label name no other source uses (sources share one GNU as run)."""
        self.serial += 1
        return f"{stem}{self.serial}"

    def expression(self) -> str:
        """A directive or instruction around a random expression tree, with the
        labels it may name defined before and after it."""
        names = {"here": self.fresh("here"), "there": self.fresh("there")}
        text = re.sub(r"\b(here|there)\b", lambda m: names[m[1]], self.expr(0))
        here, there = names["here"], names["there"]
        body = self.rng.choice((
            f".long {text}", f".byte {text}", f".quad {text}", f"movl ${text}, %eax",
            f"addl ${text}, %ecx", f"movl {text}(%ebx), %eax", f".set {here}_s, {text}\n.long {here}_s",  # noqa: E501
            f"pushl ${text}", f".fill 1, 4, {text}",
        ))  # fmt: skip
        return f"{here}: 1: nop\n{body}\n1: {there}: nop"

    def expr(self, depth: int) -> str:
        rng = self.rng
        if depth > 3 or rng.random() < 0.35:
            return rng.choice((self.number(), "do_exit", "PT_EAX", "THREAD_SIZE", ".", "here",
                               "there", "1b", "1f"))  # fmt: skip
        if rng.random() < 0.15:
            return f"{rng.choice(('-', '~', '!'))}{self.expr(depth + 1)}"
        text = f"{self.expr(depth + 1)} {rng.choice(_OPERATORS)} {self.expr(depth + 1)}"
        return f"({text})" if rng.random() < 0.4 else text

    def data_directive(self) -> str:
        rng = self.rng
        pick = rng.randrange(4)
        if pick == 0:
            args = [self.small() or "1", self.small(), self.number()][: rng.randint(1, 3)]
            return f".fill {', '.join(args)}"
        if pick == 1:
            return f".{rng.choice(('skip', 'space'))} {self.small() or '1'}, {self.number()}"
        if pick == 2:
            args = [rng.choice(("0", "1", "2", "3", "4", "8", "16"))]
            args += [self.small() for _ in range(rng.randint(0, 2))]
            return f"nop\n{rng.choice(_ALIGNS)} {', '.join(args)}\nret"
        values = [self.expr(2) for _ in range(rng.randint(1, 4))]
        return f"{rng.choice(_DATA)} {', '.join(values)}"

    def attribute(self) -> str:
        """No-byte directives as gcc writes them (and broken ones) around an instruction."""
        rng = self.rng
        name = self.fresh("fn")
        lines = [
            f".globl {name}", f".hidden {name}", f".weak {name}", f".local {name}",
            f".type {name}, @function", f".type {name},%object", f'.type {name}, "function"',
            f".type {name}, @{rng.choice(('bogus', 'notype', 'STT_FUNC'))}", '.file "t.c"',
            '.file 1 "t.c"', '.ident "GCC"', ".loc 1 2 3", ".cfi_startproc",
            ".cfi_def_cfa_offset 8", ".cfi_offset 5, -8", ".cfi_def_cfa_register 5",
            ".cfi_def_cfa 4, 4", ".cfi_restore 5", ".cfi_endproc", ".cfi_remember_state",
            ".cfi_restore_state", f".size {name}, .-{name}", f".size {name}", ".file",
            ".cfi_bogus",
        ]  # fmt: skip
        body = [rng.choice(lines) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.5:
            body = [".cfi_startproc", *body, ".cfi_endproc"]
        return f"{name}: nop\n" + "\n".join(body) + "\nret"

    def small(self) -> str:
        return self.rng.choice(("", "0", "1", "2", "3", "4", "5", "8", "16", "0x90", "0xff",
                                "-1", "100", "0x1f", "12"))  # fmt: skip

    def mutated(self) -> str:
        text = self.rng.choice(self.lines)
        for _ in range(self.rng.randint(1, 4)):
            text = self.mutate(text)
        return text

    def mutate(self, text: str) -> str:
        rng = self.rng
        at = rng.randint(0, len(text))
        how = rng.randrange(4)
        if how == 0:
            return text[:at] + text[at + rng.randint(1, 4) :]
        if how == 1:
            return text[:at] + rng.choice(_CHARS) + text[at:]
        if how == 2:
            return text[:at] + rng.choice(_CHARS) + text[at + 1 :]
        return text[:at] + " " + rng.choice(_TOKENS) + " " + text[at:]

    def spliced(self) -> str:
        picked = [self.rng.choice(self.lines) for _ in range(self.rng.randint(2, 6))]
        if self.rng.random() < 0.5:
            index = self.rng.randrange(len(picked))
            picked[index] = self.mutate(picked[index])
        return "\n".join(picked)

    def soup(self) -> str:
        return " ".join(self.rng.choice(_TOKENS) for _ in range(self.rng.randint(1, 12)))

    def directive(self) -> str:
        rng = self.rng
        directive = rng.choice([token for token in _TOKENS if token.startswith(".")])
        body = rng.choice(self.lines) if rng.random() < 0.5 else "nop"
        return f"{directive} {rng.choice(_DIRECTIVE_ARGS)}\n{body}\n{rng.choice(_TOKENS)}"

    def instruction(self) -> str:
        """A well-formed statement with random operands: what reaches Keystone most."""
        operands = [self.operand() for _ in range(self.rng.randint(0, 3))]
        return f"{self.rng.choice(self.mnemonics)} {', '.join(operands)}"

    def operand(self) -> str:
        rng = self.rng
        register, index = rng.choice(_REGISTERS), rng.choice(_REGISTERS)
        number = rng.choice(_NUMBERS)
        shapes = (
            f"%{register}",
            f"${number}",
            f"{number}(%{register})",
            f"{number}(%{register},%{index},{rng.choice('12348')})",
            f"(,%{index},{rng.choice('1248')})",
            f"%{rng.choice(('fs', 'gs', 'es'))}:{number}",
            f"*%{register}",
            f"*{number}(%{register})",
            number,
        )
        return rng.choice(shapes)


class CaseTimeoutError(Exception):
    """A single source took longer than CASE_SECONDS: a hang for our purposes."""


def _alarm(signum, frame):
    raise CaseTimeoutError


def check(source: str, origin: int = 0xC0100000) -> tuple[bytes | AsmError | None, str | None]:
    """(our bytes, or the AsmError refusing the source; what went wrong, or None)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    try:
        return assemble(source, origin, "<fuzz>", FUZZ_DEFINES).code, None
    except AsmError as err:
        return err, None
    except CaseTimeoutError:
        return None, f"no answer within {CASE_SECONDS} s"
    except Exception as err:  # noqa: BLE001 - any other exception is the finding
        return None, f"{type(err).__name__}: {err}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# A source with these cannot share a GNU as run with others: it switches sections,
# opens a block, may swallow the lines after it, or defines names others may use.
_LONE = re.compile(
    r"\.(?:text|data|bss|section|previous|pushsection|popsection|subsection|org|include|end"
    r"|code16|macro|endm|rept|irpc?|endr|if\w*|else\w*|endif|exitm|purgem|struct|ends?|cfi_\w+)\b"
    r"|/\*|\\|\"|\x00",
    re.I,
)
_STRINGS = re.compile(r'"(?:\\.|[^"\\\n])*"')


def runs_alone(source: str) -> bool:
    """Whether `source` must have a GNU as run of its own (strings are harmless)."""
    return bool(_LONE.search(_STRINGS.sub("", source)))


ORIGIN = 0xC0100000
SPACING = 0x10000
BATCH = 500


# Constructs refused whatever GNU as does, as issue 12 allows, each named by our
# message: (category, text our message contains).
NAMED_REFUSALS = (
    ("TLS relocation", "TLS relocation"),
    (".code16 (16-bit code)", "16-bit code is not supported"),
    ("section outside the image", "is not part of the image"),
    # GNU as writes `-label` in an instruction as a pc-relative field of no use in
    # an image (and refuses it in data)
    ("negated address", "negated address"),
    ("symbol set to a register", "set to a register"),
    (".eqv (==) of an expression with symbols", "'.eqv'"),
    ("NUL byte in the source", "NUL byte"),
    # GNU as then reads the next line as the string, so accepts it only at the end
    ("string directive without a string", "without a string"),
    ("'0x' without digits", "'0x' without digits"),
    ("non-ASCII symbol name", "non-ASCII name"),
    # GNU as drops them silently (.bss holds no bytes in the object)
    ("non-zero bytes in .bss", "non-zero bytes in"),
)
GNU_WARNS = "GNU as warns"


@dataclass
class Outcome:
    """What a fuzz run found."""

    cases: int = 0
    compared: int = 0  # cases that GNU as also judged
    # GNU accepts, we refuse: by name (a NAMED_REFUSALS category, or GNU as's own
    # warning on the line we refuse), and the ones nothing explains (source, message).
    refusals: Counter[str] = field(default_factory=Counter)
    unexplained: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def run(count: int, seed: int, differential: bool = HAVE_GNU_AS, bar=NULL) -> Outcome:
    """Check `count` generated sources; GNU as judges them too when `differential`;
    ``bar`` (kthreadd_emu.progress) advances by each batch."""
    outcome = Outcome()
    batch: list[str] = []
    for source in cases(count, seed, load_lines()):
        batch.append(source)
        if len(batch) == BATCH:
            _check_batch(batch, differential, outcome)
            bar.advance(len(batch))
            batch = []
    _check_batch(batch, differential, outcome)
    bar.advance(len(batch))
    return outcome


def _check_batch(sources: list[str], differential: bool, outcome: Outcome) -> None:
    origins = [ORIGIN + k * SPACING for k in range(len(sources))]
    ours = []
    for source, origin in zip(sources, origins, strict=True):
        result, problem = check(source, origin)
        if problem:
            outcome.failures.append((source, problem))
        ours.append(result)
    outcome.cases += len(sources)
    if not differential or not sources:
        return
    shared = [k for k, source in enumerate(sources) if not runs_alone(source)]
    verdicts = dict(zip(shared, gnu_verdicts([sources[k] for k in shared],
                                             [origins[k] for k in shared], FUZZ_DEFINES),
                        strict=True))  # fmt: skip
    for k, source in enumerate(sources):
        gnu = verdicts.get(k)
        # Alone, to rule out its neighbours (a `1f` or a name another source defines).
        if gnu is None or _disagree(ours[k], gnu) or _gap(ours[k], gnu):
            gnu = gnu_verdict(source, origins[k], FUZZ_DEFINES)
        outcome.compared += 1
        problem = _disagree(ours[k], gnu)
        if problem:
            outcome.failures.append((source, problem))
        elif _gap(ours[k], gnu):
            name = explain(source, ours[k])
            if name:
                outcome.refusals[name] += 1
            else:
                outcome.unexplained.append((source, ours[k].message))


def _gap(ours, gnu: bytes | GnuAsError) -> bool:
    """GNU as accepts what we refuse."""
    return isinstance(ours, AsmError) and not isinstance(gnu, GnuAsError)


def explain(source: str, error: AsmError) -> str | None:
    """Why we refuse a source GNU as accepts: a construct we refuse by name, or GNU
    as's own warning on the line we refuse (we refuse what GNU as only guesses at);
    None when nothing explains it."""
    warned = gnu_warnings(source, FUZZ_DEFINES).get(error.line)
    if warned:
        return f"{GNU_WARNS}: {_shape(warned[0])}"
    for name, text in NAMED_REFUSALS:
        if text in error.message:
            return name
    return None


def _shape(message: str) -> str:
    """A message with its numbers and quoted names taken out, to count alike ones together."""
    message = re.sub(r"`[^']*'|\"[^\"]*\"", "X", message)
    return re.sub(r"-?\b(?:0x[0-9a-f]+|\d+)\b", "N", message)


def _disagree(ours, gnu: bytes | GnuAsError) -> str | None:
    if not isinstance(ours, bytes):
        return None
    if isinstance(gnu, GnuAsError):
        why = next((line for line in str(gnu).splitlines() if "rror" in line), str(gnu))
        return f"GNU as refuses it ({why.strip()}) but we gave {ours.hex()[:200]}"
    if ours != gnu:
        return f"ours {ours.hex()[:200]} != GNU {gnu.hex()[:200]}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--show",
        type=int,
        default=20,
        metavar="N",
        help="print up to N failures and N unexplained refusals (default 20)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    # A bar on a terminal (stderr), nothing when piped.
    with progress_bar("fuzz cases", args.cases) as bar:
        outcome = run(args.cases, args.seed, bar=bar)
    for source, problem in outcome.failures[: args.show]:
        print(f"--- {problem}\n{source}")
    for source, message in outcome.unexplained[: args.show]:
        print(f"--- refused, GNU as accepts it: {message}\n{source}")
    seconds = time.perf_counter() - started
    how = "differential against GNU as" if HAVE_GNU_AS else "GNU as not installed: no comparison"
    print(f"{outcome.cases} cases, seed {args.seed} ({how}): {outcome.compared} compared")
    print(f"refused by name, accepted by GNU as: {sum(outcome.refusals.values())}")
    for name, count in sorted(outcome.refusals.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:5d}  {name}")
    print(f"refused without a reason, accepted by GNU as: {len(outcome.unexplained)}")
    print(f"failures: {len(outcome.failures)}, in {seconds:.1f} s")
    return 1 if outcome.failures or outcome.unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
