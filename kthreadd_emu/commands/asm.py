"""kthreadd-emu asm: assemble one AT&T source file the way GNU `as --32` would.

    kthreadd-emu asm FILE.S [--org ADDR] [-D NAME=VALUE ...] [--kernel] [-o OUT.bin]

Without -o, prints the listing (line, address, bytes, source); with -o, writes
the raw bytes and prints a one-line summary. Errors are one line on stderr and
exit status 1, never a traceback; -o never overwrites the source.
"""

from __future__ import annotations

import os
import re
import sys

from asm.assembler import assemble, listing
from kernel_model.kernel import Kernel
from kthreadd_emu.errors import INT_MIN, WORD_MAX, UsageError, parse_int, read_file, shown
from kthreadd_emu.output_file import check_output, summary_stream, write_output

SYMBOL = re.compile(r"[A-Za-z_.$][\w.$]*", re.A)


def add_parser(sub) -> None:
    p = sub.add_parser("asm", help="assemble an AT&T .S file; print a listing or write bytes")
    p.add_argument("file", metavar="FILE.S", help="source file")
    p.add_argument("--org", default="0", metavar="ADDR", help="load address, decimal or 0x-hex")
    p.add_argument(
        "-D",
        dest="defines",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an external absolute symbol (repeatable)",
    )
    p.add_argument(
        "--kernel",
        action="store_true",
        help="also define the kernel's symbols (PT_*, TASK_*, per_cpu__*, entry code, "
        "Python functions), as asmtest and the walk-through assemble against",
    )
    p.add_argument("-o", dest="output", metavar="OUT.bin", help="write the raw bytes here")
    p.set_defaults(run=run)


def run(args) -> int:
    origin = parse_int(args.org, "--org", 0, WORD_MAX)
    defines = dict(_define(text) for text in args.defines)
    if args.output is not None:
        _check_output(args.output, args.file)
    source = read_file(args.file)
    if args.kernel:
        defines = {**Kernel(1).asm_symbols(), **defines}
    image = assemble(source, origin, args.file, defines)
    if args.output is None:
        sys.stdout.write(listing(image))
        return 0
    write_output(args.output, image.code)
    print(
        f"{args.output}: {len(image.code)} bytes at {image.origin:#010x} from {args.file}",
        file=summary_stream(args.output),
    )
    return 0


def _define(text: str) -> tuple[str, int]:
    name, equals, value = text.partition("=")
    if not equals or not SYMBOL.fullmatch(name):
        raise UsageError(f"-D expects NAME=VALUE with NAME a symbol name, got {shown(text)}")
    return name, parse_int(value, f"-D {name}", INT_MIN, WORD_MAX)


def _check_output(output: str, source: str) -> None:
    """GNU as's refusals: no empty name, and never the input file itself."""
    if not output:
        raise UsageError("-o: an empty file name")
    if os.path.isdir(output):
        raise UsageError(f"-o: {output} is a directory")
    if os.path.exists(output) and os.path.exists(source) and os.path.samefile(output, source):
        raise UsageError(f"-o: {output} is the input file {source}: refusing to overwrite it")
    check_output(output)
