"""A gdb remote stub (the GDB Remote Serial Protocol) for the emulated kernel,
in which every kernel task is a gdb thread.

    packet.py        framing: $payload#cs, acks, no-ack mode, escapes, run-length
                     decoding, the 0x03 interrupt byte                  (no project imports)
    tdesc.py         the i386 target description and the register layout (no project imports)
    target.py        what the stub needs of a target: the Target interface (no project imports)
    handlers.py      the packets, dispatched to a Target               (no project imports)
    server.py        TCP: one client at a time, Ctrl-C while running    (no project imports)
    elf.py           a small ELF32 i386 writer (sections, symbols)     (no project imports)

Nothing here imports the project: the emulated kernel's side is in kthreadd_emu
(for_gdb/target.py: tasks as threads over the debugger's engine;
for_gdb/kernel_elf.py: the kernel as an ELF file; commands/gdbserver.py and
commands/elf.py).
"""
