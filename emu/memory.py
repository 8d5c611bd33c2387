"""Emulated RAM and the one place that knows the memory map.

All CPUs share one RAM: an anonymous host ``mmap`` mapped with
``Uc.mem_map_ptr`` into every Unicorn instance, so a store by one CPU is
seen by the others at once and Python reads kernel structs (ctypes views
laid over the same bytes, emu/structs.py) with no Unicorn call at all.

There is no paging: the kernel is linked at PAGE_OFFSET and linear
addresses are physical addresses plus PAGE_OFFSET.  Everything outside
``[PAGE_OFFSET, PAGE_OFFSET + size)`` is unmapped, so a stray pointer
faults as it would on a real kernel.  Python's accesses are checked the
same way: every accessor here, and every struct view, raises BadAddress
for a byte outside RAM (the runtime turns it into the kernel's oops).

Map (offsets from PAGE_OFFSET)::

    0x000000  reserved (first page never used, like the real low memory)
    0x100000  TEXT     kernel text: the assembled asm/ images    (_text)
    0x200000  THUNKS   one ``ret`` per Python-implemented function
    0x300000  DATA     static kernel data (.data, .bss)
    0x400000  PERCPU   .data.percpu template, then one copy per CPU (257 x 8 KiB)
    0x700000  SLAB     fixed-size objects (task_struct cache)
    0x900000  PAGES    free pages for kernel stacks (THREAD_SIZE aligned)
"""

import ctypes
import mmap
import struct
from dataclasses import dataclass

PAGE_OFFSET = 0xC0000000
PAGE_SIZE = 0x1000
MiB = 1 << 20


@dataclass(frozen=True)
class MemoryMap:
    """Region bases and sizes; the only place addresses are laid out."""

    ram_size: int = 64 * MiB
    text: int = PAGE_OFFSET + 0x100000
    text_size: int = MiB
    thunks: int = PAGE_OFFSET + 0x200000
    thunk_slot: int = 16
    thunks_size: int = MiB
    data: int = PAGE_OFFSET + 0x300000
    data_size: int = MiB
    percpu: int = PAGE_OFFSET + 0x400000
    percpu_unit: int = 0x2000
    slab: int = PAGE_OFFSET + 0x700000
    slab_size: int = 2 * MiB
    pages: int = PAGE_OFFSET + 0x900000

    @property
    def end(self) -> int:
        return PAGE_OFFSET + self.ram_size

    @property
    def py_ret(self) -> int:
        """The return-to-Python trap: the first thunk slot, never a function."""
        return self.thunks

    def percpu_copy(self, cpu: int) -> int:
        """Base of CPU ``cpu``'s copy of the per-CPU area (slot 0 is the template)."""
        return self.percpu + (cpu + 1) * self.percpu_unit


class BadAddress(MemoryError):
    """Python code followed a pointer out of RAM: on a real kernel, an oops."""

    def __init__(self, address: int):
        self.address = address & 0xFFFFFFFF
        super().__init__(f"address {self.address:#010x} is outside RAM")


_U32 = struct.Struct("<I")


class Memory:
    """The shared RAM: byte-level and word-level access by linear address."""

    def __init__(self, mmap_: MemoryMap):
        self.map = mmap_
        self.end, self.ram_size = mmap_.end, mmap_.ram_size  # hot: every access checks
        # Private, not shared: a forked copy of the process (the debugger's
        # checkpoints) gets its own RAM, copied on write.
        self.buf = mmap.mmap(-1, mmap_.ram_size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        # An export of buf kept as long as the Memory: buf can never be closed
        # or resized under Unicorn (mem_map_ptr) or a struct view (from_address).
        self._pin = ctypes.c_char.from_buffer(self.buf)
        self.host_address = ctypes.addressof(self._pin)
        # Struct views by type, then address (emu/structs.py makes and keeps them).
        self.views: dict[type, dict[int, object]] = {}

    def offset(self, addr: int, size: int = 1) -> int:
        """Offset of [addr, addr+size) in buf, or BadAddress."""
        off = addr - PAGE_OFFSET
        if off < 0 or off + size > self.ram_size:
            raise self.outside(addr)
        return off

    def outside(self, addr: int) -> BadAddress:
        """The fault of an access at ``addr`` that leaves RAM: like the CPU's, it
        names the first byte outside (``end`` when the access straddles it)."""
        return BadAddress(addr if not 0 <= addr - PAGE_OFFSET < self.ram_size else self.end)

    def contains(self, addr: int, size: int = 1) -> bool:
        return PAGE_OFFSET <= addr and addr + size <= self.map.end

    def read(self, addr: int, size: int) -> bytes:
        off = self.offset(addr, size)
        return self.buf[off : off + size]

    def write(self, addr: int, data: bytes) -> None:
        off = self.offset(addr, len(data))
        self.buf[off : off + len(data)] = data

    def fill(self, addr: int, size: int, byte: int = 0) -> None:
        self.write(addr, bytes([byte]) * size)

    def u32(self, addr: int) -> int:
        off = addr - PAGE_OFFSET
        if off < 0 or off > self.ram_size - 4:
            raise self.outside(addr)
        return _U32.unpack_from(self.buf, off)[0]

    def set_u32(self, addr: int, value: int) -> None:
        off = addr - PAGE_OFFSET
        if off < 0 or off > self.ram_size - 4:
            raise self.outside(addr)
        _U32.pack_into(self.buf, off, value & 0xFFFFFFFF)

    def save(self, ranges) -> list[tuple[int, bytes]]:
        """Copies of the [start, end) ranges, for restore()."""
        return [(start, self.read(start, end - start)) for start, end in ranges if end > start]

    def restore(self, saved) -> list[tuple[int, int]]:
        """Put saved() copies back; returns the [start, end) pages that changed."""
        changed = []
        for start, data in saved:
            off = self.offset(start, len(data))
            for page in range(0, len(data), PAGE_SIZE):
                lo, hi = off + page, off + min(page + PAGE_SIZE, len(data))
                if self.buf[lo:hi] != data[page : page + PAGE_SIZE]:
                    self.buf[lo:hi] = data[page : page + PAGE_SIZE]
                    changed.append((start + page, start + hi - off))
        return changed

    def unpack(self, fmt: str, addr: int) -> tuple:
        return struct.unpack_from(fmt, self.buf, self.offset(addr, struct.calcsize(fmt)))

    def pack(self, fmt: str, addr: int, *values) -> None:
        struct.pack_into(fmt, self.buf, self.offset(addr, struct.calcsize(fmt)), *values)
