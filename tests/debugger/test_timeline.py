"""The checkpoints' policy (debugger/timeline.py): the whole session is covered,
thinned as it ages (every checkpoint of the last million instructions, further
back spaced by their age, the first always kept), and the memory they hold is
measured and kept under the bound."""

import math
import os

import pytest

from debugger import timeline as tl
from debugger.timeline import DENSE, RESOLUTION, Checkpoint, Timeline


def fake(icount: int) -> Checkpoint:
    return Checkpoint(icount, (icount,), pid=None, wake_fd=None)


def thinned(positions, now) -> list[int]:
    line = Timeline()
    line.points = [fake(p) for p in positions]
    line._thin_by_age(now)
    return [p.icount for p in line.points]


def test_the_first_and_the_last_and_the_last_million_are_kept():
    now = 100_000_000
    recent = list(range(now - DENSE, now + 1, 20_000))
    kept = thinned([0, 5_000_000, 50_000_000, *recent], now)
    assert kept[0] == 0 and kept[-1] == now
    assert kept[-len(recent) :] == recent


def test_further_back_they_are_spaced_by_their_age_and_grow_as_its_log():
    """A checkpoint every 4M instructions for 1G instructions (full speed): what is
    kept is spaced at least age / RESOLUTION apart, some RESOLUTION * ln(1000) of
    them, not 250."""
    now = 1_000_000_000
    kept = thinned(range(0, now + 1, 4_000_000), now)
    for older, newer in zip(kept[1:-1], kept[2:], strict=False):
        assert newer - older >= (now - older) / RESOLUTION or now - older <= DENSE
    assert kept[0] == 0 and kept[-1] == now
    assert len(kept) <= RESOLUTION * math.log(now / DENSE) + 4


def test_thinning_again_later_keeps_the_rule():
    """As the session goes on, the ages grow: thinned again, the rule still holds
    (and what was dropped is not needed back)."""
    positions = list(range(0, 200_000_001, 2_000_000))
    first = thinned(positions, 200_000_000)
    later = thinned(first + [400_000_000], 400_000_000)
    assert set(later) <= set(first) | {400_000_000}
    assert later[0] == 0


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="needs /proc")
def test_over_the_memory_bound_they_are_thinned_harder(monkeypatch):
    """Real checkpoints of this process, each dirtying 2 MB after its fork: with a
    bound of 3 MB the timeline keeps fewer (the first and the last always)."""
    line = Timeline()
    ballast = bytearray(2 << 20)
    monkeypatch.setattr(tl, "MEMORY_BOUND", 3 << 20)
    try:
        for n in range(8):
            assert line.checkpoint(n * DENSE // 2, (n,)) is None  # the copy never wakes
            for i in range(0, len(ballast), 4096):
                ballast[i] = n + 1  # pages the checkpoint still holds the old copy of
            line._measured = -1e9  # measure every time
        assert line.points[0].icount == 0 and len(line.points) < 8
        assert line.resolution < RESOLUTION
    finally:
        line.close()
