"""kthreadd-emu asm: assemble one AT&T source file the way GNU `as --32` would.

    kthreadd-emu asm FILE.S [--org ADDR] [-D NAME=VALUE ...] [--kernel] [-o OUT.bin]

Without -o, prints the listing (line, address, bytes, source); with -o, writes
the raw bytes and prints a one-line summary. Errors are one line on stderr and
exit status 1, never a traceback.
"""

from __future__ import annotations

import sys

from asm.assembler import AsmError, assemble_file, listing
from kernel_model.kernel import Kernel
from kthreadd_emu.errors import UsageError, parse_int


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
    try:
        origin = parse_int(args.org, "--org")
        defines = dict(_define(text) for text in args.defines)
        if args.kernel:
            defines = {**Kernel(1).asm_symbols(), **defines}
        image = assemble_file(args.file, origin, defines)
    except AsmError as err:
        print(err, file=sys.stderr)
        return 1
    except (ValueError, UsageError, OSError) as err:
        print(f"kthreadd-emu asm: {_describe(err)}", file=sys.stderr)
        return 1
    if not args.output:
        sys.stdout.write(listing(image))
        return 0
    try:
        with open(args.output, "wb") as out:
            out.write(image.code)
    except OSError as err:
        print(f"kthreadd-emu asm: {_describe(err)}", file=sys.stderr)
        return 1
    print(f"{args.output}: {len(image.code)} bytes at {image.origin:#010x} from {args.file}")
    return 0


def _define(text: str) -> tuple[str, int]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise ValueError(f"-D expects NAME=VALUE, got {text!r}")
    return name, parse_int(value, f"-D {name}")


def _describe(err: Exception) -> str:
    """One line: OSError's strerror and file name, or the message itself."""
    if isinstance(err, OSError) and err.strerror:
        return f"{err.filename}: {err.strerror}" if err.filename else err.strerror
    return str(err)
