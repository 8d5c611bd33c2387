"""Wire transcripts: bytes in, exact bytes out, through an in-memory channel and a
fake target (no sockets, no sleeps).  Checksums are written out as gdb computes
them, so a framing bug cannot hide behind the stub's own frame()."""

import xml.etree.ElementTree as ET

import pytest
from gdbfake import BASE, FakeTarget

from gdbstub.handlers import Session
from gdbstub.packet import PacketReader, checksum, decode, frame
from gdbstub.target import Action, Stop
from gdbstub.tdesc import REGISTERS, TARGET_XML


class Wire:
    """A session and what it sent, cleared by each exchange."""

    def __init__(self, target=None):
        self.target = target or FakeTarget()
        self.out = bytearray()
        self.session = Session(self.target, self.out.extend)

    def __call__(self, data: bytes) -> bytes:
        self.out.clear()
        self.session.receive(data)
        return bytes(self.out)


def pkt(payload: bytes) -> bytes:
    """The literal packet (for requests; replies below are spelled out)."""
    return b"$" + payload + b"#%02x" % checksum(payload)


@pytest.fixture
def wire():
    return Wire()


def test_handshake_transcript(wire):
    assert wire(b"+$qSupported:multiprocess+;swbreak+#1b") == (
        b"+$PacketSize=4000;qXfer:features:read+;qXfer:exec-file:read+;qXfer:threads:read+;"
        b"vContSupported+;swbreak+;hwbreak+;QStartNoAckMode+;ReverseContinue+;ReverseStep+#74"
    )
    assert wire(b"+$QStartNoAckMode#b0") == b"+$OK#9a"
    assert wire(b"+") == b""
    # No acks from here on, either way.
    assert wire(b"$?#3f") == b"$T05thread:1;core:0;#25"
    assert wire(b"$qC#b4") == b"$QC1#c5"


def test_acks_and_retransmission(wire):
    assert wire(b"$?#3f") == b"+$T05thread:1;core:0;#25"
    assert wire(b"-") == b"$T05thread:1;core:0;#25"  # the last reply, again
    assert wire(b"$?#00") == b"-"  # bad checksum: send it again
    assert wire(b"$?#zz") == b"-"


def test_packet_split_anywhere_and_noise_between(wire):
    data = b"garbage\x00\xff$?#3f"
    out = b"".join(wire(data[i : i + 1]) for i in range(len(data)))
    assert out == b"+$T05thread:1;core:0;#25"


def test_threads_and_extra_info(wire):
    assert wire(b"$qfThreadInfo#bb") == b"+$m1,3#fd"
    assert wire(b"$qsThreadInfo#c8") == b"+$l#6c"
    # "kthreadd pid 2 S cpu0" in hex
    reply = wire(pkt(b"qThreadExtraInfo,3"))
    assert reply == b"+$6b7468726561646420706964203220532063707530#b4"
    assert bytes.fromhex(reply[2:-3].decode()) == b"kthreadd pid 2 S cpu0"
    assert wire(pkt(b"T3")) == b"+$OK#9a"
    assert wire(pkt(b"T2")) == b"+$E02#a7"
    assert wire(pkt(b"Hg2")) == b"+$E02#a7"


def test_thread_list_as_one_xml_document(wire):
    xml = (
        b'l<?xml version="1.0"?>\n<threads>\n'
        b'<thread id="1">swapper pid 0 R cpu0</thread>\n'
        b'<thread id="3">kthreadd pid 2 S cpu0</thread>\n</threads>\n'
    )
    assert wire(pkt(b"qXfer:threads:read::0,fff")) == b"+" + pkt(xml)
    assert wire(pkt(b"qXfer:threads:read::a,4")) == b"+" + pkt(b"m" + xml[11:15])
    assert wire(pkt(b"qXfer:threads:read::0,zz")) == b"+$E16#ac"


def test_registers_of_a_selected_thread(wire):
    assert wire(pkt(b"Hg3")) == b"+$OK#9a"
    reply = wire(b"$g#67")
    body = reply[2:-3]
    assert len(body) == sum(r.bits // 4 for r in REGISTERS)
    assert body.startswith(b"2a000000" + b"xxxxxxxx" * 2 + b"000f10c0" + b"e41f90c0")
    # p: eip is register 8, orig_eax 41 (0x29): absent on this thread
    assert wire(pkt(b"p8")) == b"+" + frame(b"100010c0")
    assert wire(pkt(b"p29")) == b"+" + frame(b"xxxxxxxx")
    assert wire(pkt(b"P0=ffffffff")) == b"+$OK#9a"
    assert wire.target.regs[3]["eax"] == 0xFFFFFFFF
    assert wire(pkt(b"P0=ff")) == b"+$E16#ac"  # too short for eax
    assert wire(pkt(b"p99")) == b"+$E16#ac"


def test_g_of_thread_one_has_orig_eax_last(wire):
    body = wire(b"$g#67")[2:-3]
    assert body.endswith(b"ffffffff")
    assert body[:8] == b"01000000"
    assert body[9 * 8 : 10 * 8] == b"86020000"  # eflags


def test_memory_read_write_binary(wire):
    assert wire(b"$mc0000010,4#81") == b"+$10111213#8a"
    assert wire(pkt(b"mc00000ff,2")) == b"+$E0e#da"  # runs off the end
    assert wire(pkt(b"m0,4")) == b"+$E0e#da"
    assert wire(pkt(b"Mc0000000,2:abcd")) == b"+$OK#9a"
    assert wire.target.memory[:2] == b"\xab\xcd"
    # X with the four bytes that must be escaped: $ # } *
    escaped = b"Xc0000004,4:}\x04}\x03}]}\x0a"
    assert wire(b"$" + escaped + b"#%02x" % checksum(escaped)) == b"+$OK#9a"
    assert wire.target.memory[4:8] == b"$#}*"
    assert wire(pkt(b"Xc0000000,0:")) == b"+$OK#9a"  # gdb's probe for X
    assert wire(pkt(b"Xc0000000,3:ab")) == b"+$E16#ac"


def test_run_length_encoded_request(wire):
    # "m" then "c0000010,4" written with a run: "c0*40" = c0000 ("*" + chr(3+29))
    assert decode(b"c0* 010") == b"c0000010"
    assert wire(pkt(b"mc0* 010,4")) == b"+$10111213#8a"


def test_breakpoints_and_watchpoints(wire):
    assert wire(pkt(b"Z0,c0100000,1")) == b"+$OK#9a"
    assert wire(pkt(b"Z2,c0000040,4")) == b"+$OK#9a"
    assert wire.target.breakpoints == {(0, 0xC0100000, 1), (2, 0xC0000040, 4)}
    assert wire(pkt(b"z0,c0100000,1")) == b"+$OK#9a"
    assert wire(pkt(b"Z9,0,1")) == b"+$#00"
    assert wire(pkt(b"Z0,zz,1")) == b"+$E16#ac"


def test_continue_then_stop_reply_later(wire):
    assert wire(pkt(b"vCont?")) == b"+" + frame(b"vCont;c;C;s;S;t")
    assert wire(b"$c#63") == b"+"  # no reply until the target stops
    assert wire.session.running
    assert wire(b"\x03") == b""
    assert wire.target.log[-1] == ("interrupt",)
    wire.out.clear()
    wire.session.stopped(Stop(3, 2, core=1))
    assert bytes(wire.out) == b"$T02thread:3;core:1;#25"
    assert not wire.session.running


def test_vcont_step_one_thread_continue_the_rest(wire):
    def at_once(actions, stopped):
        stopped(Stop(3, reason="swbreak", core=1))

    wire.target.on_resume = at_once
    assert wire(b"$vCont;s:3;c#c3") == b"+$T05swbreak:;thread:3;core:1;#8c"
    assert wire.target.log[-1] == ("resume", [Action("s", 3), Action("c", None)])
    assert wire(pkt(b"vCont;S05:3;C0b")) == b"+$T05swbreak:;thread:3;core:1;#8c"
    assert wire.target.log[-1] == ("resume", [Action("s", 3, 5), Action("c", None, 11)])
    assert wire(pkt(b"vCont;x")) == b"+$E16#ac"


def test_watchpoint_stop_reply_names_the_address(wire):
    def hit(actions, stopped):
        stopped(Stop(3, reason="watch", address=BASE + 0x40, core=0))

    wire.target.on_resume = hit
    assert wire(b"$c#63") == b"+$T05watch:c0000040;thread:3;core:0;#6a"


def test_packet_while_running_is_refused_and_0x03_between_packets_ignored(wire):
    assert wire(b"\x03") == b""  # not running: nothing to interrupt
    assert wire.target.log == []
    wire(b"$c#63")
    assert wire(b"$g#67").startswith(b"+$E.")


def test_target_xml_in_chunks(wire):
    got, offset = b"", 0
    while True:
        reply = wire(pkt(b"qXfer:features:read:target.xml:%x,200" % offset))
        body = decode(reply[2:-3])
        got += body[1:]
        offset += len(body) - 1
        if body[:1] == b"l":
            break
        assert body[:1] == b"m"
    assert got == TARGET_XML
    assert wire(pkt(b"qXfer:features:read:other.xml:0,100")) == b"+$E02#a7"


def test_target_xml_is_gdbs_i386_layout():
    root = ET.fromstring(TARGET_XML)
    core = root.find("feature[@name='org.gnu.gdb.i386.core']")
    names = [r.get("name") for r in core.findall("reg")]
    assert names[:16] == [
        "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
        "eip", "eflags", "cs", "ss", "ds", "es", "fs", "gs",
    ]  # fmt: skip
    assert names[16:24] == [f"st{i}" for i in range(8)]
    assert core.find("reg[@name='eflags']").get("type") == "i386_eflags"
    assert core.find("flags[@id='i386_eflags']/field[@name='IF']").get("start") == "9"
    linux = root.find("feature[@name='org.gnu.gdb.i386.linux']")
    assert linux.find("reg").attrib["name"] == "orig_eax"
    assert linux.find("reg").attrib["regnum"] == "41"


def test_exec_file_monitor_attached_unknown(wire):
    assert wire(pkt(b"qXfer:exec-file:read::0,100")) == b"+" + frame(b"l/tmp/kernel.elf")
    assert wire(pkt(b"qAttached")) == b"+$1#31"
    assert wire(pkt(b"qRcmd," + b"ps".hex().encode())) == b"+" + frame(
        b"PID COMM\n2 kthreadd\n".hex().encode()
    )
    assert bytes.fromhex(wire(pkt(b"qRcmd,7a"))[2:-3].decode()).startswith(b"unknown command")
    assert wire(pkt(b"qRcmd,zz")) == b"+$E16#ac"
    assert wire(pkt(b"vMustReplyEmpty")) == b"+$#00"
    assert wire(pkt(b"qTStatus")) == b"+$#00"


def test_detach_and_kill(wire):
    assert wire(b"$D#44") == b"+$OK#9a"
    assert wire.session.closed == "detach"
    assert wire.target.log == [("detach",)]
    assert wire(b"$?#3f") == b""  # the session is over
    other = Wire()
    assert other(b"$k#6b") == b"+"
    assert other.session.closed == "kill"


def test_reader_limits():
    reader = PacketReader(limit=8)
    events = reader.feed(b"$" + b"a" * 20 + b"#00$?#3f")
    assert [type(e).__name__ for e in events] == ["BadPacket", "Packet"]
    assert "longer" in events[0].reason
    assert reader.feed(b"$ab$?#3f")[0].reason.startswith("packet cut short")
    assert reader.feed(b"$}#7d")[0].reason.startswith("escape")


class BuggyTarget(FakeTarget):
    """A target with bugs: what it raises is none of TargetError."""

    def monitor(self, command):
        raise TypeError("'NoneType' object is not iterable")

    def remove_breakpoint(self, kind, addr, length):
        raise LookupError("no breakpoint number 1")

    def resume(self, actions, stopped):
        raise RuntimeError("the engine broke")


def test_a_bug_in_the_target_is_one_line_and_the_session_goes_on():
    wire = Wire(BuggyTarget())
    bugs = []
    wire.session.on_error = bugs.append
    # qRcmd: the line as the command's output, which gdb prints.
    assert wire(pkt(b"qRcmd," + b"define foo".hex().encode())) == b"+" + frame(
        b"internal error: TypeError: 'NoneType' object is not iterable\n".hex().encode()
    )
    # Any other packet: an E. reply with the same line.
    assert wire(pkt(b"z0,c0000010,1")) == b"+" + frame(
        b"E.internal error: LookupError: no breakpoint number 1"
    )
    # A resume that broke: nothing runs, so the next packet is served.
    assert wire(b"$c#63") == b"+" + frame(b"E.internal error: RuntimeError: the engine broke")
    assert [type(b).__name__ for b in bugs] == ["TypeError", "LookupError", "RuntimeError"]
    assert wire(b"$?#3f") == b"+$T05thread:1;core:0;#25"  # still serving


def test_console_output_goes_out_before_the_stop_reply(wire):
    report = "BUG: soft lockup - CPU#0 stuck for 5000 instructions! [spin:3]\n" * 40

    def lockup(actions, stopped):
        stopped(Stop(3, 24, core=0, output=report))

    wire.target.on_resume = lockup
    events = PacketReader(limit=1 << 20).feed(wire(b"$c#63")[1:])
    payloads = [e.payload for e in events]
    assert payloads[-1] == b"T18thread:3;core:0;"  # SIGXCPU
    assert all(p.startswith(b"O") and len(p) <= 2048 for p in payloads[:-1])
    assert b"".join(bytes.fromhex(p[1:].decode()) for p in payloads[:-1]) == report.encode()


def test_reverse_packets_run_the_target_backwards_and_say_where_history_begins(wire):
    """bc and bs (gdb's reverse-continue and reverse-stepi, on the thread Hc chose);
    at the start of the history the stop reply says replaylog:begin."""
    calls = []

    def reverse(kind, tid, stopped):
        calls.append((kind, tid))
        stopped(Stop(tid, core=0, replaylog="begin" if kind == "s" else None))

    wire.target.reverse = reverse
    assert wire(pkt(b"bc")) == b"+" + frame(b"T05thread:1;core:0;")
    assert wire(pkt(b"Hc3")) == b"+" + frame(b"OK")
    assert wire(pkt(b"bs")) == b"+" + frame(b"T05replaylog:begin;thread:3;core:0;")
    assert calls == [("c", 1), ("s", 3)] and not wire.session.running
    assert wire(pkt(b"bx")) == b"+$#00"  # not a packet we know


def test_a_target_that_cannot_go_back_refuses_bc(wire):
    assert wire(pkt(b"bc")) == b"+$E16#ac"
    assert not wire.session.running
