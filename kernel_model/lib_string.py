"""lib/string.c's functions for C code (memcpy, memset, strlen ...), on
emulated memory.  gcc calls memcpy and memset by itself for struct copies and
initializers, -ffreestanding or not; a pointer outside RAM is the page fault
the kernel's own loop would take."""

from kernel_model.runtime import guest_callable
from kernel_model.vsprintf import c_string

_NO_LIMIT = 1 << 32


def _c_string(kern, addr: int, limit: int = _NO_LIMIT) -> bytes:
    return c_string(kern.mem, addr, min(limit, kern.mem.end - addr))


@guest_callable(nargs=3)
def memcpy(kern, to: int, src: int, n: int) -> int:
    """void *memcpy(void *to, const void *from, size_t n)"""
    kern.mem.write(to, kern.mem.read(src, n))
    return to


@guest_callable(nargs=3)
def memmove(kern, to: int, src: int, n: int) -> int:
    """void *memmove(void *to, const void *from, size_t n): overlapping is fine."""
    kern.mem.write(to, kern.mem.read(src, n))
    return to


@guest_callable(nargs=3)
def memset(kern, s: int, c: int, n: int) -> int:
    """void *memset(void *s, int c, size_t n)"""
    kern.mem.fill(s, n, c & 0xFF)
    return s


@guest_callable(nargs=3)
def memcmp(kern, cs: int, ct: int, count: int) -> int:
    """int memcmp(const void *cs, const void *ct, size_t count)"""
    for a, b in zip(kern.mem.read(cs, count), kern.mem.read(ct, count), strict=True):
        if a != b:
            return a - b
    return 0


@guest_callable(nargs=1)
def strlen(kern, s: int) -> int:
    return len(_c_string(kern, s))


@guest_callable(nargs=2)
def strnlen(kern, s: int, count: int) -> int:
    return len(_c_string(kern, s, count))


def _compare(a: bytes, b: bytes) -> int:
    for x, y in zip(a + b"\0", b + b"\0", strict=False):
        if x != y:
            return 1 if x > y else -1
    return 0


@guest_callable(nargs=2)
def strcmp(kern, cs: int, ct: int) -> int:
    return _compare(_c_string(kern, cs), _c_string(kern, ct))


@guest_callable(nargs=3)
def strncmp(kern, cs: int, ct: int, count: int) -> int:
    return _compare(_c_string(kern, cs, count), _c_string(kern, ct, count))


@guest_callable(nargs=2)
def strcpy(kern, dest: int, src: int) -> int:
    kern.mem.write(dest, _c_string(kern, src) + b"\0")
    return dest


@guest_callable(nargs=3)
def strncpy(kern, dest: int, src: int, count: int) -> int:
    """Up to count bytes, NUL-padded (no NUL if src is that long), as C's."""
    kern.mem.write(dest, _c_string(kern, src, count).ljust(count, b"\0"))
    return dest


@guest_callable(nargs=2)
def strchr(kern, s: int, c: int) -> int:
    """The first c in s (its NUL counts), or NULL."""
    text = _c_string(kern, s) + b"\0"
    at = text.find(bytes([c & 0xFF]))
    return 0 if at < 0 else s + at
