"""The emulated kernel as an ELF32 i386 file for gdb, with what a vmlinux
built with debug information gives it.

* Sections: the kernel text (the assembled images, a loaded user image
  included) and the Python functions' thunks at their addresses, the data
  areas as address ranges.
* Symbols: every symbol of the machine's table, guest labels and Python
  functions as functions (a label runs to the next one, a thunk is its one
  ``ret``), data as objects with their variables' sizes.
* DWARF (.debug_info, .debug_abbrev, .debug_str, .debug_line,
  .debug_frame, .debug_ranges):
  - the ``kernel`` unit: a type for every struct view of the kernel model
    (made from the views: emu/debuginfo.py) and a typed variable for each
    kernel global and per-CPU variable, so ``ptype struct task_struct`` and
    ``p kthreadd_task->comm`` work; and py_ret and py_root, the addresses
    where guest code returns to Python and where a task's Python root ends
    the walk;
  - a unit per assembled image (entry_32.S, a --load'ed file) with the line
    table and call frames the assembler made of it (``.cfi_*``);
  - a unit per kernel_model file with Python functions: each function's thunk
    at its ``def`` line, and its call frames: from the thunk's address, a
    function entered (the return address at esp); from thunk + RETURN_MARK,
    the runtime's frame records (kernel_model/runtime.py), so gdb unwinds
    from guest code called by Python through every Python function of the
    chain back to the guest code that called the first.
* .debug_gdb_scripts: the gdb helpers (kthreadd_emu/for_gdb/lx_helpers.py: lx-ps,
  $lx_current() ...), inline, for gdb to auto-load where its safe-path
  allows; ``write_kernel_elf`` also writes them beside the ELF
  (``kernel-gdb.py`` for ``kernel.elf``), to ``source`` where it does not.
"""

import inspect
import os
import struct
from pathlib import Path

from asm._lines import LineRow, line_program
from asm.assembler import assemble
from emu.debuginfo import TypeDies, variable_die
from emu.dwarf import LANG_C89, LANG_MIPS_ASSEMBLER, DebugInfo, Die
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
from kernel_model.runtime import EXPORTS, OUTERMOST, RECORD, RECORD_FP, RETURN_MARK
from kthreadd_emu.output_file import write_output, writes_a_file

_TYPES = {"asm": STT_FUNC, "python": STT_FUNC, "data": STT_OBJECT}
PRODUCER = "kthreadd-emu (DWARF from the kernel model's struct views)"
ASM_PRODUCER = "kthreadd-emu assembler"
PY_PRODUCER = "kthreadd-emu (Python kernel functions at their thunks)"
CIE_ID = 0xFFFFFFFF
# .debug_gdb_scripts entry kinds (gdb's SECTION_SCRIPT_ID_*).
SCRIPT_ID_PYTHON_TEXT = 4
GDB_SCRIPT = Path(__file__).with_name("lx_helpers.py")


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
    """The ``kernel`` unit: the struct types, the typed variables, py_ret and py_root."""
    py_ret = kern.machine.map.py_ret
    unit = Die("compile_unit", [
        ("producer", "strp", PRODUCER), ("language", "data2", LANG_C89),
        ("name", "strp", "kernel"), ("low_pc", "addr", py_ret - 1),
        ("high_pc", "data4", OUTERMOST + 1)])  # fmt: skip
    types = TypeDies(unit)
    for view in kernel_views():
        types.view_die(view)
    for name, ctype, addr, _ in kernel_variables(kern):
        variable_die(types, name, ctype, addr)
    # A frame returning to py_ret is looked up at py_ret - 1 (as after a call).
    unit.add(_function("py_ret", py_ret - 1, py_ret + OUTERMOST - 1))
    unit.add(_function("py_root", py_ret + OUTERMOST - 1, py_ret + OUTERMOST))
    return unit


def _function(name: str, start: int, end: int, line: int | None = None) -> Die:
    where = [] if line is None else [("decl_file", "data1", 1), ("decl_line", "udata", line)]
    return Die("subprogram", [
        ("name", "strp", name), ("external", "flag_present", None), *where,
        ("low_pc", "addr", start), ("high_pc", "data4", end - start)])  # fmt: skip


class _Sections:
    """The DWARF sections being put together: each unit's line program and call
    frames appended, as ld appends each object's (a .debug_frame FDE's CIE
    pointer moves with its CIE), and the range lists."""

    def __init__(self):
        self.info = DebugInfo()
        self.line, self.frame, self.ranges = bytearray(), bytearray(), bytearray()

    def add_line(self, program: bytes) -> int:
        at = len(self.line)
        self.line += program
        return at

    def add_frames(self, data: bytes) -> None:
        base, at = len(self.frame), 0
        while at < len(data):
            length, ident = struct.unpack_from("<II", data, at)
            entry = bytearray(data[at : at + 4 + length])
            if ident != CIE_ID:
                struct.pack_into("<I", entry, 4, ident + base)
            self.frame += entry
            at += 4 + length

    def add_ranges(self, pairs) -> int:
        at = len(self.ranges)
        for start, end in pairs:
            self.ranges += struct.pack("<II", start, end)
        self.ranges += bytes(8)
        return at

    def sections(self) -> dict[str, bytes]:
        out = self.info.sections()
        out.update({".debug_line": bytes(self.line), ".debug_frame": bytes(self.frame),
                    ".debug_ranges": bytes(self.ranges)})  # fmt: skip
        return out


def asm_units(kern, out: _Sections) -> None:
    """A unit per assembled image: its code, its line table (one row per
    instruction for a .S file, as as -g gives) and its call frames.  An image
    with DWARF of its own (gcc -g) is left out: adding its units needs its
    offsets moved (issue 22)."""
    for image in kern.machine.images():
        if ".debug_info" in image.debug:
            continue
        unit = Die("compile_unit", [
            ("producer", "strp", ASM_PRODUCER), ("language", "data2", LANG_MIPS_ASSEMBLER),
            ("name", "strp", image.filename), ("comp_dir", "strp", os.getcwd()),
            ("low_pc", "addr", image.origin), ("high_pc", "data4", len(image.code))])  # fmt: skip
        if ".debug_line" in image.debug:
            unit.attrs.append(("stmt_list", "sec_offset", out.add_line(image.debug[".debug_line"])))
        if ".debug_frame" in image.debug:
            out.add_frames(image.debug[".debug_frame"])
        out.info.add_unit(unit)


def python_units(kern, out: _Sections) -> None:
    """A unit per kernel_model file with Python functions: each thunk at the
    function's ``def`` line, and the frames of every thunk and of py_ret."""
    by_file: dict[str, list] = {}
    for addr, name in sorted(kern.machine.python_functions.items()):
        func = EXPORTS[name].func
        by_file.setdefault(inspect.getsourcefile(func), []).append((addr, name, _def_line(func)))
    for path, functions in sorted(by_file.items()):
        rows = []
        for addr, _, line in functions:
            rows += [
                LineRow(addr, 1, line),
                LineRow(addr + RETURN_MARK, 1, line, end_sequence=True),
            ]
        ranges = out.add_ranges((addr, addr + RETURN_MARK) for addr, _, _ in functions)
        lines = out.add_line(line_program(tuple(rows), path))
        unit = Die("compile_unit", [
            ("producer", "strp", PY_PRODUCER), ("language", "data2", LANG_C89),
            ("name", "strp", path), ("low_pc", "addr", 0), ("ranges", "sec_offset", ranges),
            ("stmt_list", "sec_offset", lines)])  # fmt: skip
        for addr, name, line in functions:
            unit.add(_function(name, addr, addr + RETURN_MARK, line))
        out.info.add_unit(unit)
    out.add_frames(assemble(thunk_frames_source(kern), kern.machine.map.py_ret - 1).debug[
        ".debug_frame"])  # fmt: skip


def _def_line(func) -> int:
    lines, start = inspect.getsourcelines(func)
    return start + next(i for i, text in enumerate(lines) if text.lstrip().startswith("def "))


def record_rule() -> list[str]:
    """The CFI of a frame the runtime's records describe: the CFA is 8 above the
    saved-ebp word ebp points at, and every word of the record restores its
    register (kernel_model/runtime.py's RECORD)."""
    cfa = 4 * (len(RECORD) - RECORD_FP)
    rules = [f"\t.cfi_def_cfa ebp, {cfa}"]
    return rules + [f"\t.cfi_offset {reg}, {4 * (i - RECORD_FP) - cfa}" for i, reg in
                    enumerate(RECORD)]  # fmt: skip


def thunk_frames_source(kern) -> str:
    """Assembly (at py_ret - 1) whose ``.cfi_*`` are the thunks' call frames: py_ret
    (a frame returning there is looked up at py_ret - 1) follows the records, and
    py_root (py_ret + OUTERMOST, looked up one before) ends the walk; a thunk is a
    function entered at its address and follows the records at thunk + 1, where
    a record returning to thunk + RETURN_MARK is looked up."""
    py_ret = kern.machine.map.py_ret
    out = [".cfi_sections .debug_frame", "\t.cfi_startproc simple", *record_rule(),
           f"\t.skip {OUTERMOST}", "\t.cfi_undefined eip", "\t.skip 1",
           "\t.cfi_endproc"]  # fmt: skip
    at = py_ret + OUTERMOST
    for addr in sorted(kern.machine.python_functions):
        out += [f"\t.skip {addr - at}", "\t.cfi_startproc", f"\t.skip {RETURN_MARK - 1}",
                *record_rule(), "\t.skip 1", "\t.cfi_endproc"]  # fmt: skip
        at = addr + RETURN_MARK
    return "\n".join(out) + "\n"


def debug_sections(kern) -> list[Section]:
    out = _Sections()
    out.info.add_unit(kernel_unit(kern))
    asm_units(kern, out)
    python_units(kern, out)
    sections = [debug_section(name, data) for name, data in out.sections().items()]
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
