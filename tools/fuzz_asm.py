"""Fuzz asm.assembler: every source must give an Image or an AsmError, quickly.

Anything else is a bug: another exception, a hang, or the process dying because
a Keystone input got past our screening (Keystone 0.9.2 segfaults on some input,
e.g. `.text`). Sources are random token soup and mutations of the differential
corpus (tests/asm_unit/corpus.S). The test suite runs a short fixed-seed version
of the same generator; `make fuzz` runs this script for longer:

    python tools/fuzz_asm.py --cases 200000 --seed 7
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asm.assembler import AsmError, assemble  # noqa: E402

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
    ".endr .irp .irpc .exitm .include .if .endif .code16 "
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


def cases(count: int, seed: int, lines: list[str]) -> Iterator[str]:
    """`count` sources, the same ones for the same seed."""
    generator = _Generator(random.Random(seed), lines)
    makers = (
        generator.mutated,
        generator.mutated,
        generator.spliced,
        generator.soup,
        generator.directive,
        generator.instruction,
        generator.instruction,
    )
    for _ in range(count):
        yield generator.rng.choice(makers)()


class _Generator:
    """Makes one fuzz source per call; all randomness comes from `rng`."""

    def __init__(self, rng: random.Random, lines: list[str]) -> None:
        self.rng, self.lines = rng, lines
        self.mnemonics = sorted({line.split()[0] for line in lines if line[0].isalpha()})

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


def check(source: str) -> str | None:
    """None if `source` gave an Image or an AsmError in time, else what went wrong."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    try:
        assemble(source, 0xC0100000, "<fuzz>", FUZZ_DEFINES)
    except AsmError:
        return None
    except CaseTimeoutError:
        return f"no answer within {CASE_SECONDS} s"
    except Exception as err:  # noqa: BLE001 - any other exception is the finding
        return f"{type(err).__name__}: {err}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return None


def run(count: int, seed: int) -> list[tuple[str, str]]:
    """(source, problem) for every failing case."""
    lines = load_lines()
    failures = []
    for source in cases(count, seed, lines):
        problem = check(source)
        if problem:
            failures.append((source, problem))
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    failures = run(args.cases, args.seed)
    for source, problem in failures[:20]:
        print(f"--- {problem}\n{source}")
    seconds = time.perf_counter() - started
    print(f"{args.cases} cases, seed {args.seed}: {len(failures)} failures in {seconds:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
