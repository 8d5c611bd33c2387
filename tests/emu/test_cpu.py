"""Register access through the C library: 32-bit and 16-bit registers read back
exactly what Unicorn holds (the shared buffer must not leak stale high bytes)."""

from emu.cpu import UC_REG


def test_segment_read_after_wide_write(demo):
    kern, _ = demo
    cpu = kern.machine.cpus[0]
    cpu.write("eax", 0xDEADBEEF)
    assert cpu.read("eax") == 0xDEADBEEF
    assert cpu.read("cs") == 0x60 and cpu.read("ss") == 0x68 and cpu.read("fs") == 0xD8
    assert cpu.read("eax") == cpu.uc.reg_read(UC_REG["eax"])


def test_regs_snapshot_matches_binding(demo):
    kern, _ = demo
    cpu = kern.machine.cpus[0]
    cpu.write("esp", 0xC0801FF0)
    regs = cpu.regs().values
    assert regs == {name: cpu.uc.reg_read(UC_REG[name]) for name in regs}
