"""What the debugger's engine reports through the stub, with the real gdb in
-batch mode and as wire transcripts: a call through NULL is a segmentation
fault (T0b), once, and the machine goes on; a store into code through `M` is
what the next instructions run."""

import re

from gdbrun import Server, needs_gdb, register
from test_run_control import Args, pkt, transcript

from kthreadd_emu.options import unbooted_machine

NULL_CALL = "\t.globl null_call\nnull_call:\n\txorl %eax, %eax\n\tcall *%eax\n\tret\n"
HELPER_MOVL = 0xC01000A9  # kernel_thread_helper+2: movl %edx, %eax (2 bytes), then push %edx


def loaded(tmp_path, source: str, run: str) -> Args:
    path = tmp_path / "routine.S"
    path.write_text(source)
    args = Args()
    args.load, args.run_line = [str(path)], run
    return args


@needs_gdb
def test_gdb_sees_a_call_through_null_as_sigsegv_at_0(tmp_path):
    path = tmp_path / "null.S"
    path.write_text(NULL_CALL)
    srv = Server(tmp_path / "k.elf", "--load", str(path), "--run", "kthread null_call")
    try:
        out = srv.gdb("continue", "info registers eip", end="kill")
    finally:
        srv.stop()
    assert "received signal SIGSEGV, Segmentation fault." in out
    assert "0x00000000 in ?? ()" in out and register(out, "eip") == 0
    assert "SIGTRAP" not in out


def test_after_the_null_oops_continue_runs_on_instead_of_trapping_again(tmp_path):
    kern = unbooted_machine(loaded(tmp_path, NULL_CALL, "kthread null_call"))
    log = transcript(pkt(b"c"), pkt(b"p8"), pkt(b"c") + b"\x03", kern=kern)
    (_, first), (_, eip), (_, second) = log
    assert first.startswith(b"$T0b") and eip == pkt(b"00000000")
    # The thread died of its oops; the machine went idle and waited for gdb's Ctrl-C.
    assert second.startswith(b"$T02")


def test_a_store_into_code_through_m_is_what_the_next_steps_run():
    kern = unbooted_machine(Args())
    helper = kern.symbols["kernel_thread_helper"]
    assert helper + 2 == HELPER_MOVL
    nops = pkt(b"M%x,2:9090" % HELPER_MOVL)
    log = transcript(pkt(b"Z0,%x,1" % helper), pkt(b"c"), nops,
                     *[pkt(b"vCont;s:2"), pkt(b"p8")] * 3, kern=kern)  # fmt: skip
    eips = [int.from_bytes(bytes.fromhex(reply[1:9].decode()), "little")
            for request, reply in log if request == pkt(b"p8")]  # fmt: skip
    assert log[2] == (nops, pkt(b"OK"))
    # pushl $0, then the two nops one by one, then push %edx: not the old movl.
    assert eips == [HELPER_MOVL, HELPER_MOVL + 1, HELPER_MOVL + 2]


@needs_gdb
def test_gdb_set_var_into_code_then_stepi_runs_the_new_bytes(tmp_path):
    srv = Server(tmp_path / "k.elf", "--cpus", "1")
    try:
        out = srv.gdb("break kernel_thread_helper", "continue",
                      f"set var *(int *){HELPER_MOVL:#x} = 0xff529090", "x/3i $pc", "stepi",
                      "stepi", "info registers eip", "stepi", "info registers eip")  # fmt: skip
    finally:
        srv.stop()
    assert f"{HELPER_MOVL:#x} <kernel_thread_helper+2>:\tnop" in out
    eips = [int(v, 16) for v in re.findall(r"^eip\s+(0x[0-9a-f]+)", out, re.M)]
    assert eips == [HELPER_MOVL + 1, HELPER_MOVL + 2]
