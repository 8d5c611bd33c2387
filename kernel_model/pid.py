"""PID allocation as kernel/pid.c does it: one bitmap page, ``last_pid``,
wrap-around to RESERVED_PIDS past ``pid_max``.

The bitmap is the ``pidmap`` page in kernel data (emulated memory).
"""

import re

PID_MAX_DEFAULT = 0x8000
RESERVED_PIDS = 300
BITS_PER_PAGE = 4096 * 8
_NOT_FULL = re.compile(rb"[^\xff]")  # a byte of the map with a free pid in it


class PidMap:
    def __init__(self, kern):
        self.mem = kern.mem
        self.data = kern.data
        self.base = kern.data.addr + kern.data.OFFSETS["pidmap"]
        # The page itself, in place in RAM (bytes: bit n of byte n // 8 is pid n).
        off = self.mem.offset(self.base, BITS_PER_PAGE // 8)
        self.page = memoryview(self.mem.buf)[off : off + BITS_PER_PAGE // 8]
        self.pid_max = PID_MAX_DEFAULT

    def init(self) -> None:
        """pidmap_init(): reserve pid 0 for the idle task."""
        self.page[:] = bytes(len(self.page))
        self._set(0)
        self.data.pidmap_nr_free = BITS_PER_PAGE - 1
        self.data.last_pid = 0

    def _set(self, nr: int) -> None:
        self.page[nr // 8] |= 1 << nr % 8

    def _clear(self, nr: int) -> None:
        self.page[nr // 8] &= ~(1 << nr % 8) & 0xFF

    def _next_zero(self, start: int, limit: int) -> int:
        """find_next_zero_bit over [start, limit); -1 if none."""
        page, nr = self.page, start
        while nr % 8 and nr < limit:  # the rest of the first byte, bit by bit
            if not page[nr // 8] >> nr % 8 & 1:
                return nr
            nr += 1
        found = _NOT_FULL.search(page, nr // 8, -(-limit // 8)) if nr < limit else None
        if found is None:
            return -1
        byte = page[found.start()]
        nr = found.start() * 8 + (~byte & (byte + 1)).bit_length() - 1
        return nr if nr < limit else -1

    def alloc_pidmap(self) -> int:
        """Next free pid after last_pid, wrapping to RESERVED_PIDS; -1 if none."""
        pid = self.data.last_pid + 1
        if pid >= self.pid_max:
            pid = RESERVED_PIDS
        found = self._next_zero(pid, self.pid_max)
        if found < 0:
            found = self._next_zero(RESERVED_PIDS, pid)
        if found < 0:
            return -1
        self._set(found)
        self.data.pidmap_nr_free -= 1
        self.data.last_pid = found
        return found

    def free_pidmap(self, pid: int) -> None:
        self._clear(pid)
        self.data.pidmap_nr_free += 1
