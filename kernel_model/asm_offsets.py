"""The symbols guest code assembles against (the role of asm-offsets_32.c).

Struct offsets come from the typed views, constants from consts.py and
emu/segment.py, addresses from the memory map; nothing is typed twice.
Python-implemented functions get fixed thunk slots in name order, so
their addresses are known before any machine exists.
"""

from emu import segment
from emu.memory import MemoryMap
from kernel_model import (  # noqa: F401 - each publishes its guest-callable functions
    consts,
    exit,
    ksyms,
    kthread,
    lib_string,
    main,
    panic,
    percpu_threads,
    printk,
    process_32,
    sched,
    slab,
    vsprintf,
)
from kernel_model.data import data_symbols
from kernel_model.headers import task_struct, thread_info, thread_struct
from kernel_model.percpu import per_cpu_symbols, percpu_asm_offsets
from kernel_model.ptrace import PT_OFFSETS
from kernel_model.runtime import EXPORTS

# Every constant of consts.py (THREAD_SIZE, _TIF_*, X86_EFLAGS_*, errnos, PF_*, CLONE_*, ...).
_CONSTANTS = {n: v for n, v in vars(consts).items() if n.lstrip("_").isupper() and type(v) is int}
_SELECTORS = (
    "__KERNEL_CS", "__KERNEL_DS", "__USER_CS", "__USER_DS", "__KERNEL_PERCPU",
    "__KERNEL_STACK_CANARY", "USER_RPL",
)  # fmt: skip
_TASK_FIELDS = (
    "state", "stack", "flags", "pid", "comm", "stack_canary", "exit_code",
    "tasks", "children", "sibling", "real_parent", "parent",
)  # fmt: skip


def python_function_addresses(memory_map: MemoryMap) -> dict[str, int]:
    slot = memory_map.thunk_slot
    return {name: memory_map.thunks + (i + 1) * slot for i, name in enumerate(sorted(EXPORTS))}


def asm_defines(memory_map: MemoryMap | None = None) -> dict[str, int]:
    m = memory_map or MemoryMap()
    defines = dict(PT_OFFSETS)
    defines.update({f"TI_{name}": off for name, off in thread_info.OFFSETS.items()})
    defines.update({f"TASK_{name}": task_struct.OFFSETS[name] for name in _TASK_FIELDS})
    thread = task_struct.OFFSETS["thread"]
    defines.update(
        {f"TASK_thread_{n}": thread + thread_struct.OFFSETS[n] for n in ("sp", "sp0", "ip")}
    )
    defines.update(_CONSTANTS)
    defines.update({name: getattr(segment, name) for name in _SELECTORS})
    defines.update(percpu_asm_offsets())
    defines.update(per_cpu_symbols(m))
    defines.update(data_symbols(m.data))
    defines.update(python_function_addresses(m))
    return defines
