"""What kthreadd-emu gives gdb: the kernel as a gdb target (``target.py``, served
by ``kthreadd-emu gdbserver``), the kernel as an ELF file with its DWARF
(``kernel_elf.py``, ``kthreadd-emu elf``), and the helpers that run inside gdb
(``lx_helpers.py``: lx-ps, $lx_current ...)."""
