"""Register access through the C library: 32-bit and 16-bit registers read back
exactly what Unicorn holds (the shared buffer must not leak stale high bytes),
whether the CPU is the one loaded in Unicorn or waits in its saved context."""

from emu.cpu import UC_REG


def test_segment_read_after_wide_write(demo):
    kern, _ = demo
    m = kern.machine
    cpu = m.cpus[0]
    m.load_cpu(cpu)
    cpu.write("eax", 0xDEADBEEF)
    assert cpu.read("eax") == 0xDEADBEEF
    assert cpu.read("cs") == 0x60 and cpu.read("ss") == 0x68 and cpu.read("fs") == 0xD8
    assert cpu.read("eax") == m.uc.reg_read(UC_REG["eax"])


def test_regs_snapshot_matches_binding(demo):
    kern, _ = demo
    m = kern.machine
    cpu = m.cpus[0]
    m.load_cpu(cpu)
    cpu.write("esp", 0xC0801FF0)
    regs = cpu.regs()
    assert regs == {name: m.uc.reg_read(UC_REG[name]) for name in regs}


def test_cpus_keep_their_own_registers_in_one_unicorn():
    """Two CPUs, one Unicorn: writes to the one not loaded go to its context and
    survive loading the other; each keeps its own per-CPU %fs descriptor base."""
    from kernel_model.kernel import Kernel

    kern = Kernel(2)
    m = kern.machine
    a, b = m.cpus
    m.load_cpu(a)
    a.write("ebx", 0x1111)
    b.write("ebx", 0x2222)  # b is not loaded: its saved context
    assert m.loaded is a and a.read("ebx") == 0x1111 and b.read("ebx") == 0x2222
    m.load_cpu(b)
    assert m.uc.reg_read(UC_REG["ebx"]) == 0x2222 and a.read("ebx") == 0x1111
    assert b.regs()["gs"] == 0xE0 and a.regs()["fs"] == 0xD8


def test_update_eflags_on_the_loaded_cpu_and_a_saved_one():
    """cli/sti as the kernel model does them: only the named bits change."""
    from kernel_model.kernel import Kernel

    kern = Kernel(2)
    m = kern.machine
    a, b = m.cpus
    m.load_cpu(a)
    for cpu in (a, b):  # a is loaded, b waits in its saved context
        cpu.write("eflags", 0x0FD7)  # CF PF AF ZF SF TF IF DF OF
        cpu.update_eflags(clear=0x200)  # cli
        assert cpu.read("eflags") == 0x0DD7
        cpu.update_eflags(clear=0x100, add=0x200)  # TF off, sti
        assert cpu.read("eflags") == 0x0ED7
    assert m.loaded is a and m.uc.reg_read(UC_REG["eflags"]) == 0x0ED7
