"""Segment registers load through real descriptors of the Linux GDT: a selector
without a valid descriptor faults; the per-CPU and canary bases are the CPU's own."""

import pytest

from emu.events import Fault

CODE_OK = bytes.fromhex("b87b0000008ed8")  # movl $0x7b, %eax; movl %eax, %ds
CODE_LDT = bytes.fromhex("b8880000008ed8")  # selector 0x88: the empty LDT entry


@pytest.fixture
def cpu_and_machine(demo):
    kern, _ = demo
    return kern.machine.cpus[0], kern.machine, kern


def run_code(machine, cpu, code):
    addr = machine.map.text + 0x8000
    machine.mem.write(addr, code + b"\xf4")
    cpu.write("esp", machine.map.pages + 0x1000)
    return machine.run(cpu, addr, len(code))


def test_loading_a_valid_selector_works(cpu_and_machine):
    cpu, machine, _ = cpu_and_machine
    cpu.write("ds", 0x68)
    run_code(machine, cpu, CODE_OK)
    assert cpu.read("ds") == 0x7B


def test_loading_a_selector_without_descriptor_faults(cpu_and_machine):
    cpu, machine, _ = cpu_and_machine
    stop = run_code(machine, cpu, CODE_LDT)
    assert isinstance(stop, Fault) and stop.kind == "trap"


def test_percpu_segment_base_is_the_per_cpu_offset():
    from kernel_model.percpu import per_cpu_offset
    from kthreadd_emu.scenario import demo_kernel

    kern, _ = demo_kernel(3)
    gdt = kern.mem.read(kern.machine.cpus[2].gdtr[0] + 27 * 8, 8)
    base = gdt[2] | gdt[3] << 8 | gdt[4] << 16 | gdt[7] << 24
    assert base == per_cpu_offset(kern.machine.map, 2) != per_cpu_offset(kern.machine.map, 1)
