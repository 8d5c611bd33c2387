"""The framing of the GDB Remote Serial Protocol (gdb's "Overview" and
"Binary Data" sections of the manual, appendix E).

A packet is ``$payload#cs``: ``cs`` is the sum of the payload's bytes modulo
256 as two hex digits.  The receiver answers ``+`` (good) or ``-`` (send it
again) until no-ack mode (``QStartNoAckMode``).  Between packets gdb may send a
lone 0x03 byte: the user pressed Ctrl-C.  Inside a payload ``}`` escapes the
next byte (XOR 0x20) and ``X*N`` repeats ``X`` N-29 more times (run-length
encoding).  Anything else between packets is noise and is skipped.

This module imports nothing of the project.
"""

from dataclasses import dataclass

PACKET_SIZE = 0x4000  # the largest packet we accept (advertised as PacketSize)
INTERRUPT = 0x03
ESCAPE = ord("}")
RUN = ord("*")
_MUST_ESCAPE = frozenset(b"$#}*")
_HEX = frozenset(b"0123456789abcdefABCDEF")


class PacketError(ValueError):
    """A payload that cannot be decoded (a dangling escape, a bad run length)."""


@dataclass(frozen=True)
class Packet:
    payload: bytes  # decoded: escapes and runs undone


@dataclass(frozen=True)
class BadPacket:
    reason: str  # the checksum did not match, too long, undecodable


@dataclass(frozen=True)
class Ack:
    good: bool  # "+" or "-"


@dataclass(frozen=True)
class Interrupt:
    """0x03 between packets."""


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def escape(data: bytes) -> bytes:
    """Escape the bytes that would end or confuse a packet: $ # } *."""
    if not _MUST_ESCAPE.intersection(data):
        return data
    out = bytearray()
    for b in data:
        if b in _MUST_ESCAPE:
            out += bytes((ESCAPE, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def decode(raw: bytes) -> bytes:
    """Undo run-length encoding, then escapes (an escaped ``*`` is ``}\\x0a``, so
    every raw ``*`` is a run)."""
    if RUN in raw:
        raw = _expand_runs(raw)
    if ESCAPE not in raw:
        return raw
    out = bytearray()
    it = iter(raw)
    for b in it:
        if b == ESCAPE:
            nxt = next(it, None)
            if nxt is None:
                raise PacketError("escape character at the end of the packet")
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def _expand_runs(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        b = raw[i]
        if b != RUN:
            out.append(b)
            i += 1
            continue
        if not out or i + 1 >= len(raw):
            raise PacketError("run-length marker without a byte to repeat or a count")
        count = raw[i + 1] - 29
        if count < 0 or len(out) + count > PACKET_SIZE:
            raise PacketError("bad run length")
        out += bytes((out[-1],)) * count
        i += 2
    return bytes(out)


def frame(payload: bytes) -> bytes:
    """``$payload#cs`` with the payload escaped."""
    body = escape(payload)
    return b"$" + body + b"#" + b"%02x" % checksum(body)


class PacketReader:
    """Cuts the byte stream from gdb into Packet, BadPacket, Ack and Interrupt
    events; keeps a partial packet between feeds.  Never raises, never grows past
    PACKET_SIZE: the input is untrusted."""

    def __init__(self, limit: int = PACKET_SIZE):
        self.limit = limit
        self._body: bytearray | None = None  # inside a packet: what came after '$'
        self._sum: bytearray | None = None  # after '#': the checksum digits so far
        self._oversized = False

    def feed(self, data: bytes) -> list:
        events = []
        for b in data:
            event = self._byte(b)
            if event is not None:
                events.append(event)
        return events

    def _byte(self, b: int):
        if self._body is None:
            return self._between(b)
        if b == ord("$"):  # a new packet starts: the broken one is dropped
            self._start()
            return BadPacket("packet cut short by a new '$'")
        if self._sum is not None:
            self._sum.append(b)
            return self._finish() if len(self._sum) == 2 else None
        if b == ord("#"):
            self._sum = bytearray()
        elif len(self._body) < self.limit:
            self._body.append(b)
        else:
            self._oversized = True
        return None

    def _between(self, b: int):
        if b == ord("$"):
            self._start()
        elif b == ord("+"):
            return Ack(True)
        elif b == ord("-"):
            return Ack(False)
        elif b == INTERRUPT:
            return Interrupt()
        return None  # noise between packets

    def _start(self) -> None:
        self._body, self._sum, self._oversized = bytearray(), None, False

    def _finish(self):
        body, digits, oversized = bytes(self._body), bytes(self._sum), self._oversized
        self._body = self._sum = None
        if oversized:
            return BadPacket(f"packet longer than {self.limit} bytes")
        if not all(c in _HEX for c in digits):
            return BadPacket("checksum is not two hex digits")
        if int(digits, 16) != checksum(body):
            return BadPacket(f"checksum {digits!r} does not match {checksum(body):02x}")
        try:
            return Packet(decode(body))
        except PacketError as err:
            return BadPacket(str(err))
