"""The packets of the GDB Remote Serial Protocol, dispatched to a Target.

A Session is one client's conversation.  ``receive(bytes)`` takes whatever
came from the client (any cut of the stream); replies go out through the
``send`` callable it was built with.  Resuming packets (``c``, ``s``, ``bc``, ``bs``,
``vCont``) start the target and send nothing: the stop reply goes out when
the target calls ``stopped``.  Every packet gets a reply, an empty one when
unknown, ``Enn`` when refused; nothing the client sends raises out of here:
what the target raises beyond TargetError (a bug) is ``E.internal error: ...``,
and for ``qRcmd`` the same line as the command's output, as gdb shows it.

This module imports nothing of the project.
"""

from gdbstub.packet import PACKET_SIZE, Ack, BadPacket, Interrupt, Packet, PacketReader, frame
from gdbstub.target import (
    EFAULT,
    EINVAL,
    ENOENT,
    Action,
    Stop,
    TargetError,
)
from gdbstub.tdesc import BY_NUMBER, TARGET_XML, decode_registers, encode_register, encode_registers

REPLY_CHUNK = 2048  # thread lists and qXfer answers are cut to this many bytes
SUPPORTED = (
    f"PacketSize={PACKET_SIZE:x};qXfer:features:read+;qXfer:exec-file:read+;"
    "qXfer:threads:read+;vContSupported+;swbreak+;hwbreak+;QStartNoAckMode+;"
    "ReverseContinue+;ReverseStep+"
).encode()
WATCH_REASONS = {2: "watch", 3: "rwatch", 4: "awatch"}


class BadRequest(ValueError):
    """A packet we understand the name of but not the arguments of: ``E16``."""


def error(errno: int) -> bytes:
    return b"E%02x" % (errno & 0xFF)


def hex_int(text: bytes) -> int:
    if not text or len(text) > 16 or not all(c in b"0123456789abcdefABCDEF" for c in text):
        raise BadRequest(f"not a hex number: {text[:20]!r}")
    return int(text, 16)


def thread_id(text: bytes) -> int:
    """A thread id: hex, 0 (any) or -1 (all)."""
    return -1 if text == b"-1" else hex_int(text)


def addr_length(text: bytes) -> tuple[int, int]:
    addr, sep, length = text.partition(b",")
    if not sep:
        raise BadRequest("expected ADDR,LENGTH")
    return hex_int(addr), hex_int(length)


def stop_reply(stop: Stop) -> bytes:
    """``T05thread:3;core:0;`` with the reason first (swbreak:;, watch:ADDR;,
    replaylog:begin;)."""
    parts = [b"T%02x" % stop.signal]
    if stop.reason in ("watch", "rwatch", "awatch"):
        parts.append(b"%s:%x;" % (stop.reason.encode(), stop.address or 0))
    elif stop.reason in ("swbreak", "hwbreak"):
        parts.append(stop.reason.encode() + b":;")
    elif stop.replaylog is not None:
        parts.append(b"replaylog:%s;" % stop.replaylog.encode())
    parts.append(b"thread:%x;" % stop.tid)
    if stop.core is not None:
        parts.append(b"core:%x;" % stop.core)
    return b"".join(parts)


def console_packets(text: str) -> list[bytes]:
    """``O`` packets of ``text`` (hex), at most REPLY_CHUNK bytes each."""
    data = text.encode()
    step = (REPLY_CHUNK - 1) // 2
    return [b"O" + data[i : i + step].hex().encode() for i in range(0, len(data), step)]


def internal_error(err: Exception) -> str:
    """A bug's one line: ``internal error: TypeError: ...``."""
    lines = str(err).strip().splitlines()
    detail = f": {lines[0][:200]}" if lines else ""
    return f"internal error: {type(err).__name__}{detail}"


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xfer_chunk(data: bytes, args: bytes) -> bytes:
    """A qXfer read's ``OFFSET,LENGTH`` slice: ``m`` more to come, ``l`` the last."""
    offset, length = addr_length(args)
    length = min(length, REPLY_CHUNK)
    part = data[offset : offset + length]
    return (b"m" if offset + length < len(data) else b"l") + part


class Session:
    """One client: the reader, ack mode, the selected threads, and running or not."""

    def __init__(self, target, send, packet_size: int = PACKET_SIZE, on_error=None):
        self.target, self.send = target, send
        self.on_error = on_error  # called with what the target raised beyond TargetError
        self.reader = PacketReader(packet_size)
        self.packet_size = packet_size
        self.acks = True
        self.running = False
        self.closed = None  # "detach" or "kill" once the client said so
        self.g_thread = self.c_thread = 0
        self.last_reply = b""
        self._thread_list: list[int] = []
        self._threads_xml = b""

    # -- the byte stream ------------------------------------------------------

    def receive(self, data: bytes) -> None:
        for event in self.reader.feed(data):
            if self.closed:
                return
            if isinstance(event, Packet):
                self._packet(event.payload)
            elif isinstance(event, BadPacket):
                if self.acks:
                    self.send(b"-")
            elif isinstance(event, Ack):
                if not event.good and self.acks and self.last_reply:
                    self.send(self.last_reply)
            elif isinstance(event, Interrupt) and self.running:
                self.target.interrupt()

    def _packet(self, payload: bytes) -> None:
        if self.acks:
            self.send(b"+")
        if self.running:
            self._reply(b"E.the target is running: interrupt it first")
            return
        try:
            reply = self.dispatch(payload)
        except TargetError as err:
            reply = error(err.errno)
        except ValueError:  # BadRequest, or bad hex or UTF-8 found deeper down
            reply = error(EINVAL)
        except Exception as err:  # a bug in the target: the server goes on
            reply = b"E." + self._internal_error(err).encode()
        if reply is not None:
            self._reply(reply)

    def _internal_error(self, err: Exception) -> str:
        if self.on_error is not None:
            self.on_error(err)
        return internal_error(err)

    def _reply(self, payload: bytes) -> None:
        self.last_reply = frame(payload)
        self.send(self.last_reply)

    def stopped(self, stop: Stop) -> None:
        """The target stopped after a resume: the stop reply goes out now."""
        self.running = False
        self.g_thread = self.c_thread = stop.tid
        if not self.closed:
            for packet in console_packets(stop.output):
                self.send(frame(packet))
            self._reply(stop_reply(stop))

    # -- dispatch -------------------------------------------------------------

    def dispatch(self, p: bytes) -> bytes | None:
        head = p[:1]
        if p.startswith((b"q", b"Q", b"v")):
            return self._query(p)
        handler = {
            b"?": lambda: stop_reply(self.target.current_stop()),
            b"g": lambda: encode_registers(self.target.registers(self._g())),
            b"G": lambda: self._write_registers(p[1:]),
            b"p": lambda: self._read_register(p[1:]),
            b"P": lambda: self._write_register(p[1:]),
            b"m": lambda: self._read_memory(p[1:]),
            b"M": lambda: self._write_memory_hex(p[1:]),
            b"X": lambda: self._write_memory_binary(p[1:]),
            b"c": lambda: self._resume("c", p[1:]),
            b"C": lambda: self._resume("c", p[1:].partition(b";")[2]),
            b"s": lambda: self._resume("s", p[1:]),
            b"b": lambda: self._reverse(p),
            b"S": lambda: self._resume("s", p[1:].partition(b";")[2]),
            b"Z": lambda: self._breakpoint(p[1:], insert=True),
            b"z": lambda: self._breakpoint(p[1:], insert=False),
            b"T": lambda: b"OK" if self.target.thread_alive(thread_id(p[1:])) else error(ENOENT),
            b"H": lambda: self._select_thread(p[1:]),
            b"D": self._detach,
            b"k": self._kill,
        }.get(head)
        return b"" if handler is None else handler()

    def _query(self, p: bytes) -> bytes | None:
        name, _, args = p.partition(b":")
        if p.startswith(b"qSupported"):
            return SUPPORTED
        if p == b"QStartNoAckMode":
            self._reply(b"OK")  # acknowledged by the client in ack mode, then none
            self.acks = False
            return None
        if p.startswith(b"qXfer:features:read:target.xml:"):
            return xfer_chunk(TARGET_XML, p.rsplit(b":", 1)[1])
        if p.startswith(b"qXfer:features:read:"):
            return error(ENOENT)
        if p.startswith(b"qXfer:exec-file:read:"):
            path = self.target.exec_file()
            if path is None:
                return error(ENOENT)
            return xfer_chunk(path.encode(), p.rsplit(b":", 1)[1])
        if p.startswith(b"qXfer:threads:read::"):
            args = p[len(b"qXfer:threads:read::") :]
            if addr_length(args)[0] == 0:
                self._threads_xml = self._thread_xml()  # a fresh list from offset 0
            return xfer_chunk(self._threads_xml, args)
        if p == b"qfThreadInfo":
            self._thread_list = list(self.target.threads())
            return self._next_threads()
        if p == b"qsThreadInfo":
            return self._next_threads()
        if p.startswith(b"qThreadExtraInfo,"):
            return self.target.thread_extra_info(thread_id(p[17:])).encode().hex().encode()
        if p == b"qC":
            return b"QC%x" % self.target.current_stop().tid
        if name == b"qAttached":
            return b"1"  # attached to a machine that was already running: quit detaches
        if p.startswith(b"qRcmd,"):
            return self._monitor(p[6:])
        if p == b"vCont?":
            return b"vCont;c;C;s;S;t"
        if p.startswith(b"vCont;"):
            return self._vcont(p[6:])
        return b""  # unknown: gdb falls back

    # -- threads --------------------------------------------------------------

    def _g(self) -> int:
        return self._pick(self.g_thread)

    def _pick(self, tid: int) -> int:
        """0 (any) and -1 (all) mean the thread that stopped."""
        return self.target.current_stop().tid if tid in (0, -1) else tid

    def _select_thread(self, args: bytes) -> bytes:
        which, tid = args[:1], thread_id(args[1:])
        if which not in (b"g", b"c"):
            raise BadRequest("H takes g or c")
        if tid not in (0, -1) and not self.target.thread_alive(tid):
            return error(ENOENT)
        if which == b"g":
            self.g_thread = tid
        else:
            self.c_thread = tid
        return b"OK"

    def _thread_xml(self) -> bytes:
        """qXfer:threads: every thread with its CPU and its extra info in one
        document (gdb then needs no qThreadExtraInfo per thread)."""
        lines = ['<?xml version="1.0"?>', "<threads>"]
        for tid in self.target.threads():
            core = self.target.thread_core(tid)
            attrs = f' id="{tid:x}"' + ("" if core is None else f' core="{core}"')
            extra = xml_escape(self.target.thread_extra_info(tid))
            lines.append(f"<thread{attrs}>{extra}</thread>")
        lines.append("</threads>")
        return ("\n".join(lines) + "\n").encode()

    def _next_threads(self) -> bytes:
        if not self._thread_list:
            return b"l"
        ids, size = [], 1
        while self._thread_list and size < REPLY_CHUNK:
            ids.append(b"%x" % self._thread_list.pop(0))
            size += len(ids[-1]) + 1
        return b"m" + b",".join(ids)

    # -- registers and memory -------------------------------------------------

    def _register(self, text: bytes):
        reg = BY_NUMBER.get(hex_int(text))
        if reg is None:
            raise TargetError(f"no register {text!r}", EINVAL)
        return reg

    def _read_register(self, args: bytes) -> bytes:
        reg = self._register(args)
        return encode_register(reg, self.target.registers(self._g()).get(reg.name))

    def _write_register(self, args: bytes) -> bytes:
        num, sep, value = args.partition(b"=")
        reg = self._register(num)
        if not sep or len(value) != reg.bits // 4:
            raise BadRequest("P takes N=VALUE, the value as wide as the register")
        number = int.from_bytes(bytes.fromhex(value.decode("ascii")), "little")
        self.target.write_registers(self._g(), {reg.name: number})
        return b"OK"

    def _write_registers(self, data: bytes) -> bytes:
        try:
            values = decode_registers(data)
        except ValueError as err:
            raise BadRequest(str(err)) from None
        self.target.write_registers(self._g(), values)
        return b"OK"

    def _read_memory(self, args: bytes) -> bytes:
        addr, length = addr_length(args)
        length = min(length, (self.packet_size - 4) // 2)  # a short read is allowed
        if addr + length > 1 << 32:
            return error(EFAULT)
        return self.target.read_memory(addr, length).hex().encode()

    def _write_memory_hex(self, args: bytes) -> bytes:
        where, sep, digits = args.partition(b":")
        addr, length = addr_length(where)
        if not sep or len(digits) != 2 * length:
            raise BadRequest("M takes ADDR,LENGTH:HEX with LENGTH bytes")
        try:
            data = bytes.fromhex(digits.decode("ascii"))
        except ValueError:
            raise BadRequest("M: bad hex") from None
        return self._write_memory(addr, data)

    def _write_memory_binary(self, args: bytes) -> bytes:
        where, sep, data = args.partition(b":")
        addr, length = addr_length(where)
        if not sep or len(data) != length:
            raise BadRequest("X takes ADDR,LENGTH:DATA with LENGTH bytes")
        return self._write_memory(addr, data)

    def _write_memory(self, addr: int, data: bytes) -> bytes:
        if addr + len(data) > 1 << 32:
            return error(EFAULT)
        if data:
            self.target.write_memory(addr, data)
        return b"OK"

    # -- breakpoints and run control -------------------------------------------

    def _breakpoint(self, args: bytes, insert: bool) -> bytes:
        fields = args.split(b";")[0].split(b",")
        if len(fields) != 3:
            raise BadRequest("Z/z take TYPE,ADDR,KIND")
        kind, addr, length = hex_int(fields[0]), hex_int(fields[1]), hex_int(fields[2])
        if kind > 4:
            return b""  # not a kind we know: unsupported
        if insert:
            self.target.insert_breakpoint(kind, addr, length)
        else:
            self.target.remove_breakpoint(kind, addr, length)
        return b"OK"

    def _resume(self, kind: str, addr: bytes) -> None:
        tid = self._pick(self.c_thread)
        if addr:
            self.target.write_registers(tid, {"eip": hex_int(addr)})
        actions = [Action(kind, tid if kind == "s" else None)]
        return self._start(actions)

    def _reverse(self, p: bytes) -> bytes | None:
        """``bc``, ``bs``: the target runs backwards; the stop reply comes later."""
        if p not in (b"bc", b"bs"):
            return b""
        self.running = True
        try:
            self.target.reverse(p[1:].decode(), self._pick(self.c_thread), self.stopped)
        except Exception:  # refused, or a bug: nothing runs
            self.running = False
            raise
        return None

    def _vcont(self, args: bytes) -> None:
        actions = []
        for item in args.split(b";"):
            what, _, tid_text = item.partition(b":")
            kind, signal = what[:1], what[1:]
            if kind not in (b"c", b"C", b"s", b"S", b"t") or (signal and kind in b"cst"):
                raise BadRequest(f"vCont: unknown action {what[:8]!r}")
            tid = thread_id(tid_text) if tid_text else None
            number = hex_int(signal) if signal else None
            actions.append(Action(kind.lower().decode(), None if tid == -1 else tid, number))
        return self._start(actions)

    def _start(self, actions: list[Action]) -> None:
        self.running = True
        try:
            self.target.resume(actions, self.stopped)
        except Exception:  # refused, or a bug: nothing runs
            self.running = False
            raise
        return None

    def _detach(self) -> bytes:
        self._reply(b"OK")
        self.closed = "detach"
        self.target.detach()
        return None

    def _kill(self) -> None:
        self.closed = "kill"
        self.target.kill()
        return None

    def _monitor(self, hexcmd: bytes) -> bytes:
        try:
            command = bytes.fromhex(hexcmd.decode("ascii")).decode()
        except ValueError:
            raise BadRequest("qRcmd: bad hex") from None
        try:
            output = self.target.monitor(command)
        except TargetError as err:
            output = f"{err}\n"
        except Exception as err:  # whatever a command raises, one line and the server goes on
            output = self._internal_error(err) + "\n"
        if not output:
            return b"OK"
        return output.encode().hex().encode()
