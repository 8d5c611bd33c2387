"""kthreadd-emu elf: the emulated kernel as an ELF32 i386 file for gdb."""

from pathlib import Path

from kthreadd_emu.commands.ps import add_machine_options, machine_from_args
from kthreadd_emu.errors import read_file
from kthreadd_emu.gdb_elf import script_path, write_kernel_elf
from kthreadd_emu.output_file import check_output, summary_stream, writes_a_file


def add_parser(sub) -> None:
    p = sub.add_parser(
        "elf",
        help="write the kernel (text, thunks, symbols, DWARF) as an ELF file for gdb",
        description="Boot the machine and write its kernel text, the Python functions' "
        "thunks, every symbol and the DWARF of the kernel's structs and variables as an "
        "ELF32 i386 executable, and the gdb helpers (lx-ps, $lx_current() ...) beside it "
        "(FILE's stem + -gdb.py): gdb kernel.elf -ex 'target remote :1234' then names, "
        "types and disassembles the emulated kernel.",
    )
    add_machine_options(p)
    p.add_argument("--load", metavar="FILE.S", help="an assembly file loaded after the kernel")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it")
    p.set_defaults(run=run)


def load_user_image(kern, path) -> None:
    """Assemble and load ``path`` after the kernel text (its symbols go in the table)."""
    read_file(path)  # one clear line for a file that is missing, not text or too large
    kern.load_asm(path)


def booted_for_gdb(args):
    """The booted machine of the gdb commands, with --load's image if any."""
    kern = machine_from_args(args)
    if args.load is not None:
        load_user_image(kern, args.load)
    return kern


def run(args) -> int:
    out = args.output
    check_output(out)
    helpers = script_path(Path(out)) if writes_a_file(out) else None
    if helpers is not None:
        check_output(helpers)
    kern = booted_for_gdb(args)
    data = write_kernel_elf(out, kern)
    stream = summary_stream(out)
    print(f"{len(kern.symbols.by_name)} symbols, {len(data)} bytes -> {out}", file=stream)
    if helpers is not None:
        print(f"gdb helpers (lx-ps, $lx_current() ...) -> {helpers}", file=stream)
    return 0
