"""kthreadd-emu elf: the emulated kernel as an ELF32 i386 file for gdb."""

from pathlib import Path

from kthreadd_emu.for_gdb.kernel_elf import script_path, write_kernel_elf
from kthreadd_emu.options import (
    add_load_option,
    add_machine_options,
    add_output_option,
    booted_with_image,
)
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
    add_load_option(p, "a file loaded after the kernel")
    add_output_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    out = args.output
    check_output(out)
    helpers = script_path(Path(out)) if writes_a_file(out) else None
    if helpers is not None:
        check_output(helpers)
    kern = booted_with_image(args)
    data = write_kernel_elf(out, kern)
    stream = summary_stream(out)
    print(f"{len(kern.symbols.by_name)} symbols, {len(data)} bytes -> {out}", file=stream)
    if helpers is not None:
        print(f"gdb helpers (lx-ps, $lx_current() ...) -> {helpers}", file=stream)
    return 0
