"""Emulated RAM: every accessor is bounded by RAM, and an access that leaves
it is one BadAddress naming the first byte outside, as the CPU's page fault
would (the runtime turns it into the kernel's oops)."""

import pytest

from emu.memory import PAGE_OFFSET, BadAddress, Memory, MemoryMap

RAM = 1 << 20


@pytest.fixture
def mem():
    return Memory(MemoryMap(ram_size=RAM))


def test_the_last_word_of_ram_is_readable_and_writable(mem):
    last = mem.end - 4
    mem.set_u32(last, 0x11223344)
    assert mem.u32(last) == 0x11223344
    assert mem.read(last, 4) == bytes.fromhex("44332211")
    mem.set_u32(PAGE_OFFSET, -1)  # the first word; C semantics: wraps
    assert mem.u32(PAGE_OFFSET) == 0xFFFFFFFF


ACCESSES = {
    "u32": lambda m, a: m.u32(a),
    "set_u32": lambda m, a: m.set_u32(a, 0x5A5A5A5A),
    "read": lambda m, a: m.read(a, 4),
    "write": lambda m, a: m.write(a, b"\x5a" * 4),
    "fill": lambda m, a: m.fill(a, 4, 0x5A),
    "unpack": lambda m, a: m.unpack("<I", a),
    "pack": lambda m, a: m.pack("<I", a, 0x5A5A5A5A),
}


@pytest.mark.parametrize("access", sorted(ACCESSES))
@pytest.mark.parametrize(
    "where, faulting",
    [
        ("one word past RAM", lambda m: (m.end, m.end)),
        ("straddling the end", lambda m: (m.end - 2, m.end)),
        ("the word below PAGE_OFFSET", lambda m: (PAGE_OFFSET - 4, PAGE_OFFSET - 4)),
        ("straddling PAGE_OFFSET", lambda m: (PAGE_OFFSET - 2, PAGE_OFFSET - 2)),
        ("NULL", lambda m: (0, 0)),
        ("past 4 GiB", lambda m: (1 << 32, 0)),
    ],
)
def test_every_access_outside_ram_is_bad_address_and_touches_nothing(mem, access, where, faulting):
    addr, first_bad = faulting(mem)
    # Negative buffer offsets used to index from the end: set_u32(0xBFFFFFFC)
    # wrote the last word of RAM.  Nothing may change anywhere.
    mem.write(mem.end - 8, bytes(range(1, 9)))
    mem.write(PAGE_OFFSET, bytes(range(1, 9)))
    with pytest.raises(BadAddress) as err:
        ACCESSES[access](mem, addr)
    assert err.value.address == first_bad, where
    assert mem.read(mem.end - 8, 8) == bytes(range(1, 9))
    assert mem.read(PAGE_OFFSET, 8) == bytes(range(1, 9))


def test_bad_address_names_the_address_in_32_bits(mem):
    with pytest.raises(BadAddress, match="address 0xbffffffc is outside RAM"):
        mem.u32(PAGE_OFFSET - 4)
    with pytest.raises(BadAddress) as err:
        mem.u32(-4)
    assert err.value.address == 0xFFFFFFFC


def test_ram_cannot_be_closed_under_unicorn_and_the_views(mem):
    # Unicorn and the struct views use the host address of buf directly.
    with pytest.raises(BufferError):
        mem.buf.close()
    with pytest.raises(BufferError):
        mem.buf.resize(RAM * 2)
    mem.set_u32(mem.end - 4, 1)
    assert mem.u32(mem.end - 4) == 1
