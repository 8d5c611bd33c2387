"""kthreadd-emu elf: the emulated kernel as an ELF32 i386 file for gdb."""

from kthreadd_emu.gdb_elf import kernel_elf
from kthreadd_emu.options import (
    add_load_option,
    add_machine_options,
    add_output_option,
    booted_with_image,
)
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
    add_load_option(p, "an assembly file loaded after the kernel")
    add_output_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    out = args.output
    check_output(out)
    kern = booted_with_image(args)
    data = kernel_elf(kern)
    write_output(out, data)
    print(
        f"{len(kern.symbols.by_name)} symbols, {len(data)} bytes -> {out}", file=summary_stream(out)
    )
    return 0
