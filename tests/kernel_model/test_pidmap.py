"""kernel/pid.c's pid bitmap: find_next_zero_bit over the page in RAM, the
wrap to RESERVED_PIDS, and the map's bits as RAM holds them."""

import random

import pytest

from kernel_model.kernel import Kernel
from kernel_model.pid import BITS_PER_PAGE, PID_MAX_DEFAULT, RESERVED_PIDS


@pytest.fixture
def pidmap():
    kern = Kernel(1)
    kern.pidmap.init()
    return kern.pidmap


def reference_next_zero(bits: set[int], start: int, limit: int) -> int:
    return next((nr for nr in range(start, limit) if nr not in bits), -1)


def fill(pidmap, bits: set[int]) -> None:
    pidmap.page[:] = bytes(len(pidmap.page))
    for nr in bits:
        pidmap._set(nr)


@pytest.mark.parametrize("seed", range(6))
def test_next_zero_matches_a_plain_search(pidmap, seed):
    rng = random.Random(seed)
    # Dense runs (whole 0xff bytes) with a few holes, as a long-running pid map has.
    full = set(range(rng.randrange(0, 64), rng.randrange(2000, 9000)))
    bits = full - set(rng.sample(sorted(full), 5))
    fill(pidmap, bits)
    for _ in range(300):
        start = rng.randrange(0, 9100)
        limit = rng.randrange(start, 9200)
        assert pidmap._next_zero(start, limit) == reference_next_zero(bits, start, limit)


def test_next_zero_at_the_edges(pidmap):
    fill(pidmap, set(range(BITS_PER_PAGE)) - {BITS_PER_PAGE - 1, 13})
    assert pidmap._next_zero(0, BITS_PER_PAGE) == 13
    assert pidmap._next_zero(14, BITS_PER_PAGE) == BITS_PER_PAGE - 1
    assert pidmap._next_zero(14, BITS_PER_PAGE - 1) == -1  # the limit is exclusive
    assert pidmap._next_zero(13, 13) == -1
    # A free pid earlier in the byte where the search starts is not found.
    fill(pidmap, {10, 11})
    assert pidmap._next_zero(10, 12) == -1
    assert pidmap._next_zero(10, 13) == 12
    fill(pidmap, set(range(BITS_PER_PAGE)))
    assert pidmap._next_zero(0, BITS_PER_PAGE) == -1


def test_alloc_and_free_write_the_bits_in_ram(pidmap):
    pids = [pidmap.alloc_pidmap() for _ in range(10)]
    assert pids == list(range(1, 11))
    pidmap.free_pidmap(5)
    assert pidmap.mem.read(pidmap.base, 2) == bytes([0b11011111, 0b00000111])
    pidmap.data.last_pid = PID_MAX_DEFAULT - 1  # wraps past pid_max to RESERVED_PIDS
    assert pidmap.alloc_pidmap() == RESERVED_PIDS
    assert pidmap.data.pidmap_nr_free == BITS_PER_PAGE - 1 - 10
