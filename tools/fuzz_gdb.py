"""Fuzz the stub's packet layer: random and mutated packets into a Session over
the kernel target of a booted 1-CPU machine.  Every packet must get an ack, an
error or an empty reply, never an exception, and the session must stay usable.

    python tools/fuzz_gdb.py --cases 10000 --seed 7
"""

import argparse
import random

from gdbstub.handlers import Session
from gdbstub.packet import Packet, PacketReader, checksum
from kthreadd_emu.gdb_target import KernelTarget
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


def wire_case(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    payload = mutate(rng, rng.choice(SEEDS)) if kind else rng.randbytes(rng.randrange(64))
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


def run(cases: int, seed: int) -> int:
    rng = random.Random(seed)
    kern = booted_kernel(1)
    target = KernelTarget(kern)
    out = bytearray()
    session = Session(target, out.extend)
    for _ in range(cases):
        session.running = False  # a resume only sets the engine's mode (nothing runs here)
        session.receive(wire_case(rng))
        check_replies(bytes(out))
        out.clear()
        if session.closed:
            session = Session(target, out.extend)
    session.running = False
    session.receive(b"$?#3f")
    # A "-" first if the last case left half a packet, which the "$" cuts short.
    assert bytes(out).lstrip(b"-").startswith(b"+$T05thread:"), out
    return cases


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
    cases = run(args.cases, args.seed)
    print(f"{cases} packets: no exception, every reply well-formed, the session still usable")


if __name__ == "__main__":
    main()
