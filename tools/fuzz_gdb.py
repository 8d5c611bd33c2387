"""Fuzz the gdb stub: random and mutated packets into a Session over the kernel
target of a 2-CPU machine (half the cases booted, half stopped before boot, as
gdbserver serves it without --booted), with gdbserver's monitor (the debugger's
shell) behind qRcmd, served as the server serves them: inside the engine's stop
(in place of gdbstub.server.GdbServer; a resume only sets the engine's mode, as
nothing runs until the fuzz ends).  Monitor commands come from a list of hostile ones (define,
source of a missing file, quit, huge numbers, run control, deletions behind
gdb's back), each sent once as it is and then mutated word by word; a scene
inserts a breakpoint, deletes it through the monitor and removes it as gdb
would.  Every packet must get an ack, an error or an empty reply and never an
exception; the scene's removal must answer OK; the session must stay usable.
What the monitor's shell raised beyond its own errors (the stub answered
``internal error: ...`` and went on) is listed at the end: bugs of the shell,
not of the stub.

    python tools/fuzz_gdb.py --cases 10000 --seed 7
"""

import argparse
import os
import random
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

from gdbstub.handlers import Session
from gdbstub.packet import Packet, PacketReader, checksum
from gdbstub.server import KILLED
from kthreadd_emu.commands.gdbserver import Monitor, unbooted_for_gdb
from kthreadd_emu.for_gdb.target import KernelTarget
from kthreadd_emu.scenario import booted_kernel

SEEDS = [
    b"?", b"g", b"G" + b"00" * 10, b"p8", b"P8=00000000", b"mc0100000,10", b"m0,4",
    b"mffffffff,10", b"Mc0900000,2:abcd", b"Xc0900000,4:\x00\x01\x02\x03", b"X10,4:ab",
    b"c", b"s", b"vCont;c", b"vCont;s:2", b"vCont?", b"Z0,c01000a7,1", b"z0,c01000a7,1",
    b"Z2,c0900000,4", b"T3", b"Hg3", b"Hc-1", b"qfThreadInfo", b"qsThreadInfo",
    b"qThreadExtraInfo,3", b"qC", b"qAttached", b"qSupported:swbreak+",
    b"qXfer:features:read:target.xml:0,fff", b"qXfer:exec-file:read::0,10", b"qRcmd,7073",
    b"vMustReplyEmpty", b"qTStatus", b"qXfer:threads:read::0,fff", b"vCont;t:1",
    b"Z3,c0900000,4", b"z3,c0900000,4", b"Z1,c01000a7,1", b"cc01000a7",
]  # fmt: skip
MONITOR_SEEDS = [
    "define foo", "define", "define twice\nprint $arg0 * 2\nend", "twice 8",
    "source /nonexistent/commands.gdb", "source", "quit", "q", "continue", "stepi 3", "finish",
    "delete", "delete 1", "delete 99999999999999999999", "break kernel_thread_helper",
    "tbreak kernel_init", "watch *(int *)0xc0900000", "disable 1", "enable 1",
    "x/99999999999999999999xw 0", "x/4096xb 0xc0100000", "x/4i $pc", "print 09",
    "print 99999999999999999999999999 * 99999999999999999999", "print $1 * $1", "print/x -1",
    "cpu 1", "cpu 4294967296", "task 99999", "task 2", "ptregs 2", "ptregs 99999999", "ps",
    "info gdt", "info registers", "info threads", "info breakpoints", "bt", "list",
    "set var *(int *)0xc0900000 = 0x12345678", "record start", "record stop", "record save",
    "echo \\xff\\n", "help", "",
]  # fmt: skip
WORDS = [
    "0", "1", "-1", "09", "0x", "0xffffffff", "4294967296", "99999999999999999999999999",
    "$1", "$eax", "$pc", "$arg0", "*", "(", ")", "&", "if", "end", "define", "quit", "'", '"',
    "\\", "/x", "/1000000000x", "kernel_thread_helper", "task(2)->comm", "é", "\n",
]  # fmt: skip
SCENE = (b"Z0,c01000a7,1", "delete", b"z0,c01000a7,1")  # a deletion behind gdb's back


@dataclass
class Report:
    cases: int = 0
    monitor_sent: Counter = field(default_factory=Counter)  # each seed sent as it is: how often
    scenes: int = 0
    internal: Counter = field(default_factory=Counter)  # "TypeError: ..." -> how many


def mutate(rng: random.Random, payload: bytes) -> bytes:
    data = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        pos = rng.randrange(len(data) + 1)
        if op == 0:
            data[pos:pos] = bytes([rng.randrange(256)])
        elif op == 1 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 2 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        else:
            data[pos:pos] = rng.choice(SEEDS)
    return bytes(data)


def mutate_command(rng: random.Random, command: str) -> str:
    """Word-level changes (no paths come in this way: what a mutated `record
    save` writes lands in the run's own directory)."""
    words = command.split(" ")
    for _ in range(rng.randint(1, 3)):
        op, pos = rng.randrange(4), rng.randrange(len(words) + 1)
        if op == 0:
            words.insert(pos, rng.choice(WORDS))
        elif op == 1 and len(words) > 1:
            del words[min(pos, len(words) - 1)]
        elif op == 2:
            words[min(pos, len(words) - 1)] = rng.choice(WORDS)
        else:
            words.append("\n" + rng.choice(MONITOR_SEEDS))
    return " ".join(words)


def rcmd(command: str) -> bytes:
    return b"qRcmd," + command.encode().hex().encode()


def wire(payload: bytes, rng: random.Random | None = None, kind: int = 0) -> bytes:
    """``$payload#cs``, with the wire's damage of ``kind`` (1-4) when ``rng`` is given."""
    cs = checksum(payload)
    if kind == 1:
        cs ^= rng.randrange(1, 256)  # bad checksum
    raw = b"$" + payload + b"#%02x" % cs
    if kind == 2:
        raw = raw[: rng.randrange(len(raw))]  # truncated: the next packet cuts it
    if kind == 3:
        raw = rng.randbytes(rng.randrange(8)) + raw  # garbage between packets
    if kind == 4:
        raw = b"$" + b"m" * rng.randrange(0x4000, 0x4100) + b"#00"  # oversized
    return raw


def wire_case(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    payload = mutate(rng, rng.choice(SEEDS)) if kind else rng.randbytes(rng.randrange(64))
    return wire(payload, rng, kind)


class Fuzz:
    def __init__(self, kern, cases: int, seed: int, report: Report):
        self.cases, self.rng, self.report = cases, random.Random(seed), report
        self.target = KernelTarget(kern)
        self.target.monitor_command = Monitor(kern, self.target.engine)
        self.out = bytearray()
        self.session = self._session()
        self.fork_lock = threading.Lock()  # what the target's checkpoints hold across fork
        self.retire = self.after_fork = lambda: None  # no helper threads here
        self._unsent = list(MONITOR_SEEDS)
        self.rng.shuffle(self._unsent)

    def serve_stopped(self, target) -> str:
        """The engine's first stop: every case, then kill."""
        here = os.getcwd()
        with tempfile.TemporaryDirectory(prefix="fuzz-gdb-") as scratch:
            os.chdir(scratch)  # a mutated `record save WORD` writes here
            try:
                for _ in range(self.cases):
                    self.case()
                    self.report.cases += 1
            finally:
                os.chdir(here)
        # A "-" first if the last case left half a packet, which the "$" cuts short.
        reply = self.send(b"$?#3f")
        assert reply.lstrip(b"-").lstrip(b"+").startswith(b"$T05thread:"), reply
        return KILLED

    def _session(self) -> Session:
        return Session(self.target, self.out.extend, on_error=self._internal)

    def _internal(self, err: Exception) -> None:
        first = (str(err).splitlines() or [""])[0][:80]
        self.report.internal[f"{type(err).__name__}: {first}"] += 1

    def send(self, raw: bytes) -> bytes:
        """One case's bytes in; what came back, checked well-formed."""
        self.session.running = False  # a resume only sets the engine's mode (nothing runs here)
        self.out.clear()
        self.session.receive(raw)
        replies = bytes(self.out)
        check_replies(replies)
        if self.session.closed:
            self.session = self._session()
        return replies

    def case(self) -> None:
        kind = self.rng.randrange(8)
        if kind == 6:
            self.send(wire(rcmd(self._command())))
        elif kind == 7:
            self.scene()
        else:
            self.send(wire_case(self.rng))

    def _command(self) -> str:
        if self._unsent:  # every hostile command once as it is, then mutations
            command = self._unsent.pop()
            self.report.monitor_sent[command] += 1
            return command
        return mutate_command(self.rng, self.rng.choice(MONITOR_SEEDS))

    def scene(self) -> None:
        insert, command, remove = SCENE
        self.send(wire(insert))  # its "$" cuts a half packet the last case left
        self.send(wire(rcmd(command)))
        reply = self.send(wire(remove))
        assert reply.endswith(b"$OK#9a"), reply  # gone behind gdb's back: removed is OK
        self.report.scenes += 1


def run(cases: int, seed: int) -> Report:
    report = Report()
    before_boot = SimpleNamespace(
        cpus="2", profile="rhel6", seed=None, load=[], run_line=None, cflags=None
    )
    for n, kern in enumerate((booted_kernel(2), unbooted_for_gdb(before_boot))):
        fuzz = Fuzz(kern, cases // 2 + n * (cases % 2), seed + n, report)
        fuzz.target.serve(fuzz)
    return report


def check_replies(data: bytes) -> None:
    """Whatever came back is acks and well-formed packets."""
    reader = PacketReader(limit=1 << 20)
    for event in reader.feed(data):
        assert not type(event).__name__ == "BadPacket", (data[:200], event)
        if isinstance(event, Packet):
            assert len(event.payload) < 1 << 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    report = run(args.cases, args.seed)
    print(f"{report.cases} cases ({len(report.monitor_sent)} hostile monitor commands, "
          f"{report.scenes} deletions behind gdb's back): no exception, every reply "
          "well-formed, the session still usable")  # fmt: skip
    if report.internal:
        print("The monitor's shell raised (answered as `internal error: ...`):")
        for line, count in report.internal.most_common():
            print(f"  {count:6d}  {line}")


if __name__ == "__main__":
    main()
