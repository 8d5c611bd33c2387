"""Per-CPU areas and each CPU's GDT (arch/x86/kernel/setup_percpu.c,
arch/x86/kernel/cpu/common.c).

The per-CPU variables are linked once, in the template at PERCPU; each CPU
gets a copy, and ``__per_cpu_offset[cpu]`` = copy - template.  That
offset is the base of the CPU's ``__KERNEL_PERCPU`` segment, so
``movl %fs:per_cpu__current_task, %eax`` reads this CPU's ``current``.
"""

import random

from emu.segment import GDT_SIZE, STACK_CANARY_OFFSET, linux_gdt
from kernel_model.headers import percpu_area, stack_canary, tss_struct


def per_cpu_symbols(memory_map) -> dict[str, int]:
    """per_cpu__<var> symbols: the template (link-time) address of each variable."""
    return {
        f"per_cpu__{name}": memory_map.percpu + off for name, off in percpu_area.OFFSETS.items()
    }


def per_cpu_offset(memory_map, cpu: int) -> int:
    return memory_map.percpu_copy(cpu) - memory_map.percpu


def per_cpu(kern, cpu: int):
    """per_cpu(var, cpu) for the whole area: a view of CPU ``cpu``'s copy."""
    return percpu_area(kern.mem, kern.machine.map.percpu_copy(cpu))


def setup_per_cpu_areas(kern) -> None:
    """Copy the template for each CPU and record __per_cpu_offset[cpu]."""
    mmap_ = kern.machine.map
    for cpu in range(len(kern.machine.cpus)):
        area = per_cpu(kern, cpu)
        area.zero()
        offset = per_cpu_offset(mmap_, cpu)
        kern.mem.set_u32(kern.data.addr + kern.data.OFFSETS["__per_cpu_offset"] + 4 * cpu, offset)
        area.this_cpu_off = offset
        area.cpu_number = cpu


def cpu_init(kern, cpu: int, rng: random.Random) -> None:
    """Write this CPU's gdt_page (percpu fs, canary gs) and point its GDTR at it."""
    area = per_cpu(kern, cpu)
    canary = area.addr + percpu_area.OFFSETS["stack_canary"]
    gdt = area.addr + percpu_area.OFFSETS["gdt_page"]
    kern.mem.write(gdt, linux_gdt(per_cpu_offset(kern.machine.map, cpu), canary))
    stack_canary(kern.mem, canary).canary = rng.getrandbits(32)
    kern.machine.cpus[cpu].gdtr = (gdt, GDT_SIZE - 1)


def percpu_asm_offsets() -> dict[str, int]:
    """Offsets inside per-CPU variables that entry_32.S uses."""
    return {
        "STACK_CANARY_OFFSET": STACK_CANARY_OFFSET,
        "TSS_sp0": tss_struct.OFFSETS["sp0"],
    }
