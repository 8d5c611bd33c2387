"""printk and the kernel log buffer (mirrors kernel/printk.c, 2.6.32).

The log is ``__log_buf`` in the kernel's data, a ring of ``log_buf_len`` bytes
indexed by free-running ``log_start``/``con_start``/``log_end``, as 2.6.32
keeps it: each line goes in as ``<N>[%5lu.%06lu] text\\n`` (its level, then
printk_time's stamp; CONFIG_PRINTK_TIME, as in RHEL 6's config).  The ring
is 128 KiB (CONFIG_LOG_BUF_SHIFT=17, where RHEL 6 has 19: every test's snapshot
restore compares the whole ring, so it stays small).  The stamp
is ``cpu_clock()`` of the printing CPU: the instruction clock (1 instruction =
1 ns) when one runs (``Kernel.sched_clock``), else 0.

The console is the tool's output (``Kernel.log``, a console callback): each
completed line from ``con_start`` on, without its level and (a deviation) without
the stamp, which only the log buffer keeps (``dmesg`` shows it).  Oopses and
warnings go through here too, as the kernel's printk()s do.
"""

import re

from kernel_model.data import LOG_BUF_LEN
from kernel_model.runtime import guest_callable
from kernel_model.vsprintf import VaList, format_at, stack_arguments

DEFAULT_MESSAGE_LOGLEVEL = 4  # KERN_WARNING: printk's without a level
PRINTK_BUF = 1024  # printk_buf: one call's formatted text
_PREFIX = re.compile(rb"^<[0-7]>")
_STAMP = re.compile(rb"^\[\s*\d+\.\d{6}\] ")


def log_buf_init(kern) -> None:
    """The static initializers of printk.c: log_buf = __log_buf, printk_time on."""
    d = kern.data
    d.log_buf = d.addr + d.OFFSETS["__log_buf"]
    d.log_buf_len = LOG_BUF_LEN
    d.log_start = d.con_start = d.log_end = d.logged_chars = 0
    d.new_text_line = 1
    d.printk_time = 1


def cpu_clock(kern, cpu: int) -> int:
    """Nanoseconds on ``cpu``'s clock (0 while no instruction clock runs)."""
    clock = kern.sched_clock
    return 0 if clock is None else clock(cpu)


def emit_log_chars(kern, data: bytes) -> None:
    """emit_log_char() for each byte: into the ring at log_end, pushing log_start
    and con_start ahead when the ring is full."""
    d = kern.data
    mask, base, end = d.log_buf_len - 1, d.log_buf, d.log_end
    at, left = 0, len(data)
    while left:
        index = (end + at) & mask
        chunk = min(left, mask + 1 - index)
        kern.mem.write(base + index, data[at : at + chunk])
        at, left = at + chunk, left - chunk
    end = (end + len(data)) & 0xFFFFFFFF
    d.log_end = end
    size = mask + 1
    if (end - d.log_start) & 0xFFFFFFFF > size:
        d.log_start = (end - size) & 0xFFFFFFFF
    if (end - d.con_start) & 0xFFFFFFFF > size:
        d.con_start = (end - size) & 0xFFFFFFFF
    d.logged_chars = min(d.logged_chars + len(data), size)


def log_store(kern, text: bytes) -> int:
    """What vprintk() does with the formatted text: its level, the level token and
    time stamp at each line's start, the ring, then the console.  Returns the
    length printed, the tokens counted, as 2.6.32 does."""
    d = kern.data
    level, printed = DEFAULT_MESSAGE_LOGLEVEL, len(text)
    if text[:1] == b"<" and len(text) >= 3 and text[2:3] == b">":
        c = text[1:2]
        if b"0" <= c <= b"7" or c == b"d":
            if c != b"d":
                level = c[0] - 48
            if not d.new_text_line:  # make sure we're on a new line
                emit_log_chars(kern, b"\n")
                d.new_text_line = 1
            text = text[3:]
        elif c == b"c":  # KERN_CONT
            text = text[3:]
    out = bytearray()
    for line in text.splitlines(keepends=True):
        if d.new_text_line:
            out += b"<%d>" % level
            printed += 3
            d.new_text_line = 0
            if d.printk_time:
                ns = cpu_clock(kern, kern.this_cpu)
                stamp = b"[%5d.%06d] " % (ns // 1_000_000_000, ns % 1_000_000_000 // 1000)
                out += stamp
                printed += len(stamp)
        out += line
        if line.endswith(b"\n"):
            d.new_text_line = 1
    emit_log_chars(kern, bytes(out))
    flush_console(kern)
    return printed


def flush_console(kern) -> None:
    """Each complete line after con_start to the console (release_console_sem)."""
    d = kern.data
    pending = read_ring(kern, d.con_start, d.log_end)
    done = pending.rfind(b"\n") + 1
    if not done:
        return
    d.con_start = (d.con_start + done) & 0xFFFFFFFF
    for line in pending[:done].split(b"\n")[:-1]:
        shown = _STAMP.sub(b"", _PREFIX.sub(b"", line)).decode(errors="replace")
        kern.log.append(shown)
        if kern.console is not None:
            kern.console(shown)


def read_ring(kern, start: int, end: int) -> bytes:
    """The log's bytes from index ``start`` to ``end`` (free-running indices)."""
    d = kern.data
    mask, count = d.log_buf_len - 1, (end - start) & 0xFFFFFFFF
    first = start & mask
    if first + count <= mask + 1:
        return kern.mem.read(d.log_buf + first, count)
    head = kern.mem.read(d.log_buf + first, mask + 1 - first)
    return head + kern.mem.read(d.log_buf, count - len(head))


def log_text(kern) -> bytes:
    """What syslog(SYSLOG_ACTION_READ_ALL) gives: the last logged_chars bytes."""
    d = kern.data
    return read_ring(kern, (d.log_end - d.logged_chars) & 0xFFFFFFFF, d.log_end)


def dmesg(kern) -> list[str]:
    """The log as util-linux's dmesg prints it: each line without its <N> token."""
    text = log_text(kern)
    return [_PREFIX.sub(b"", line).decode(errors="replace") for line in text.splitlines()]


def printk_line(kern, line: str) -> None:
    """One line printed by the kernel's own code (an oops, a warning), at the
    default level."""
    log_store(kern, line.encode() + b"\n")


# -- the C entry points ------------------------------------------------------------


@guest_callable()
def printk(kern) -> int:
    """asmlinkage int printk(const char *fmt, ...)"""
    sp = stack_arguments(kern)
    text = format_at(kern, kern.mem.u32(sp), VaList(kern.mem, sp + 4))
    return log_store(kern, text[: PRINTK_BUF - 1])


@guest_callable(nargs=2, asmlinkage=True)
def vprintk(kern, fmt: int, args: int) -> int:
    """asmlinkage int vprintk(const char *fmt, va_list args)"""
    return log_store(kern, format_at(kern, fmt, VaList(kern.mem, args))[: PRINTK_BUF - 1])
