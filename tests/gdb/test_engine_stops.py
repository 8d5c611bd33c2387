"""What the debugger's engine reports through the stub, with the real gdb in
-batch mode and as wire transcripts: a call through NULL is a segmentation
fault (T0b), once, and the machine goes on; a store into code through `M` is
what the next instructions run."""

from gdbrun import Server, needs_gdb, register
from test_run_control import Args, pkt, transcript

from kthreadd_emu.commands.debug import make_kernel

NULL_CALL = "\t.globl null_call\nnull_call:\n\txorl %eax, %eax\n\tcall *%eax\n\tret\n"


def loaded(tmp_path, source: str, run: str) -> Args:
    path = tmp_path / "routine.S"
    path.write_text(source)
    args = Args()
    args.load, args.run_line = str(path), run
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
    kern = make_kernel(loaded(tmp_path, NULL_CALL, "kthread null_call"))
    log = transcript(pkt(b"c"), pkt(b"p8"), pkt(b"c") + b"\x03", kern=kern)
    (_, first), (_, eip), (_, second) = log
    assert first.startswith(b"$T0b") and eip == pkt(b"00000000")
    # The thread died of its oops; the machine went idle and waited for gdb's Ctrl-C.
    assert second.startswith(b"$T02")
