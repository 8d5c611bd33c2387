"""The emulated kernel as an ELF32 i386 file for gdb: the kernel text (the
assembled images, a loaded user image included) and the Python functions'
thunks at their addresses, the data areas as address ranges, and every symbol
of the machine's table: guest labels and Python functions as functions (with
their sizes: a label runs to the next one, a thunk is its one ``ret``), data
as objects."""

from gdbstub.elf import (
    SHF_ALLOC,
    SHF_EXECINSTR,
    SHF_WRITE,
    STT_FUNC,
    STT_OBJECT,
    ElfSymbol,
    Section,
    write_elf,
)

_TYPES = {"asm": STT_FUNC, "python": STT_FUNC, "data": STT_OBJECT}


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
    return [
        ElfSymbol(s.name, s.addr, s.size, _TYPES.get(s.kind, STT_FUNC))
        for s in kern.symbols.by_name.values()
    ]


def kernel_elf(kern) -> bytes:
    return write_elf(kernel_sections(kern), kernel_symbols(kern), kern.symbols["ret_from_fork"])
