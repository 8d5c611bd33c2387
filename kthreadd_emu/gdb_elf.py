"""The emulated kernel as an ELF32 i386 file for gdb, with what a vmlinux
built with debug information gives it.

* Sections: the kernel text (the assembled images, a loaded user image
  included) and the Python functions' thunks at their addresses, the data
  areas as address ranges.
* Symbols: every symbol of the machine's table, guest labels and Python
  functions as functions (a label runs to the next one, a thunk is its one
  ``ret``), data as objects with their variables' sizes.
* DWARF (.debug_info, .debug_abbrev, .debug_str): one unit, ``kernel``,
  holding a type for every struct view of the kernel model (made from the
  views: emu/debuginfo.py) and a typed variable for each kernel global and
  per-CPU variable, so ``ptype struct task_struct`` and ``p
  kthreadd_task->comm`` work.
* .debug_gdb_scripts: the gdb helpers (kthreadd_emu/gdb_lx.py: lx-ps,
  $lx_current() ...), inline, for gdb to auto-load where its safe-path
  allows; ``write_kernel_elf`` also writes them beside the ELF
  (``kernel-gdb.py`` for ``kernel.elf``), to ``source`` where it does not.
"""

from pathlib import Path

from emu.debuginfo import TypeDies, variable_die
from emu.dwarf import LANG_C89, DebugInfo, Die
from emu.structs import StructView
from gdbstub.elf import (
    SHF_ALLOC,
    SHF_EXECINSTR,
    SHF_WRITE,
    STT_FUNC,
    STT_OBJECT,
    ElfSymbol,
    Section,
    debug_section,
    write_elf,
)
from kernel_model import headers, ptrace
from kernel_model.data import kernel_data
from kernel_model.headers import percpu_area
from kthreadd_emu.output_file import write_output, writes_a_file

_TYPES = {"asm": STT_FUNC, "python": STT_FUNC, "data": STT_OBJECT}
PRODUCER = "kthreadd-emu (DWARF from the kernel model's struct views)"
# .debug_gdb_scripts entry kinds (gdb's SECTION_SCRIPT_ID_*).
SCRIPT_ID_PYTHON_TEXT = 4
GDB_SCRIPT = Path(__file__).with_name("gdb_lx.py")


def gdb_script() -> str:
    return GDB_SCRIPT.read_text()


def script_path(elf_path: Path) -> Path:
    """Where the helpers go beside ``elf_path`` (not gdb's auto-load name
    ``kernel.elf-gdb.py``: the ELF's own copy auto-loads, this one is sourced)."""
    return elf_path.with_name(f"{elf_path.stem}-gdb.py")


def kernel_views() -> list[type]:
    """Every struct the kernel model keeps in emulated memory, as gdb names them
    (kernel_data and percpu_area are sections, not structs: their fields are
    the variables)."""
    found = [v for m in (headers, ptrace) for v in vars(m).values() if _is_view(v)]
    return [v for v in found if v not in (kernel_data, percpu_area)]


def _is_view(value) -> bool:
    return isinstance(value, type) and issubclass(value, StructView) and value is not StructView


def kernel_variables(kern) -> list[tuple[str, object, int, int]]:
    """(name, C type, address, size) of every kernel global and per-CPU variable."""
    m = kern.machine.map
    out = [(f.name, f.c_type, m.data + f.offset, f.size) for f in kernel_data.FIELDS]
    out += [
        (f"per_cpu__{f.name}", f.c_type, m.percpu + f.offset, f.size) for f in percpu_area.FIELDS
    ]
    return out


def kernel_sections(kern) -> list[Section]:
    m = kern.machine.map
    mem = kern.mem
    text = mem.read(m.text, kern.text_end - m.text)
    thunks_size = m.thunk_slot * (len(kern.machine.python_functions) + 1)
    thunks = mem.read(m.thunks, thunks_size)
    percpu_size = m.percpu_copy(len(kern.machine.cpus)) - m.percpu
    return [
        Section(".text", m.text, text, len(text), SHF_ALLOC | SHF_EXECINSTR),
        Section(".thunks", m.thunks, thunks, thunks_size, SHF_ALLOC | SHF_EXECINSTR),
        Section(".data", m.data, None, m.data_size, SHF_ALLOC | SHF_WRITE),
        Section(".data.percpu", m.percpu, None, percpu_size, SHF_ALLOC | SHF_WRITE),
    ]


def kernel_symbols(kern) -> list[ElfSymbol]:
    sizes = {name: size for name, _, _, size in kernel_variables(kern)}
    return [
        ElfSymbol(s.name, s.addr, sizes.get(s.name, s.size), _TYPES.get(s.kind, STT_FUNC))
        for s in kern.symbols.by_name.values()
    ]


def kernel_unit(kern) -> Die:
    """The ``kernel`` unit: the struct types and the typed variables."""
    unit = Die("compile_unit", [
        ("producer", "strp", PRODUCER), ("language", "data2", LANG_C89),
        ("name", "strp", "kernel")])  # fmt: skip
    types = TypeDies(unit)
    for view in kernel_views():
        types.view_die(view)
    for name, ctype, addr, _ in kernel_variables(kern):
        variable_die(types, name, ctype, addr)
    return unit


def debug_sections(kern) -> list[Section]:
    info = DebugInfo()
    info.add_unit(kernel_unit(kern))
    sections = [debug_section(name, data) for name, data in info.sections().items()]
    script = bytes([SCRIPT_ID_PYTHON_TEXT]) + f"{GDB_SCRIPT.name}\n{gdb_script()}".encode()
    return [*sections, debug_section(".debug_gdb_scripts", script + b"\0")]


def kernel_elf(kern) -> bytes:
    return write_elf(
        kernel_sections(kern) + debug_sections(kern),
        kernel_symbols(kern),
        kern.symbols["ret_from_fork"],
    )


def write_kernel_elf(path: Path, kern) -> bytes:
    """The ELF at ``path`` and the gdb helpers beside it; returns the ELF's bytes."""
    data = kernel_elf(kern)
    write_output(path, data)
    if writes_a_file(path):  # not beside a FIFO or a device (--elf /dev/null)
        write_output(script_path(Path(path)), gdb_script())
    return data
