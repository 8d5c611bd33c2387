"""kthreadd-emu elf: the emulated kernel as an ELF32 i386 file for gdb."""

from kthreadd_emu.commands.ps import add_machine_options, machine_from_args
from kthreadd_emu.errors import read_file
from kthreadd_emu.gdb_elf import kernel_elf
from kthreadd_emu.output_file import check_output, summary_stream, write_output


def add_parser(sub) -> None:
    p = sub.add_parser(
        "elf",
        help="write the kernel (text, thunks, symbols) as an ELF file for gdb",
        description="Boot the machine and write its kernel text, the Python functions' "
        "thunks and every symbol as an ELF32 i386 executable: gdb kernel.elf -ex "
        "'target remote :1234' then names and disassembles the emulated kernel.",
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
    kern = booted_for_gdb(args)
    data = kernel_elf(kern)
    write_output(out, data)
    print(
        f"{len(kern.symbols.by_name)} symbols, {len(data)} bytes -> {out}", file=summary_stream(out)
    )
    return 0
