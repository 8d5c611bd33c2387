"""Run control through the stub, as wire transcripts: a real machine under the
debugger's engine (kthreadd_emu/for_gdb/target.py), stopped before boot, and a
scripted client in memory in place of the TCP server (no sockets, no sleeps).
Replies are spelled out with checksums computed here, not by the stub."""

import re
import struct
import threading

import pytest

from gdbstub.handlers import Session
from gdbstub.server import KILLED, RESUMED
from kernel_model.task import find_task_by_pid
from kthreadd_emu.commands.gdbserver import QUIT_REFUSED, Monitor
from kthreadd_emu.for_gdb.target import KernelTarget
from kthreadd_emu.options import unbooted_machine
from kthreadd_emu.scenario import booted_kernel


def pkt(payload: bytes) -> bytes:
    return b"$" + payload + b"#%02x" % (sum(payload) & 0xFF)


def le(value: int) -> bytes:
    return struct.pack("<I", value).hex().encode()


class Scripted:
    """In place of gdbstub.server.GdbServer: at each stop, the next requests go to
    one Session; a resuming one returns to the machine.  ``log`` holds each
    request with everything the stub sent for it (a resume's stop reply included)."""

    def __init__(self, requests):
        self.requests = list(requests)
        self.log: list[tuple[bytes, bytes]] = []
        self.out = bytearray()
        self.session = None
        self.fork_lock = threading.Lock()  # held across the checkpoints' forks

    def retire(self) -> None:
        """(No helper threads to stop or start again around going back.)"""

    after_fork = retire

    def serve_stopped(self, target) -> str:
        if self.session is None:
            self.session = Session(target, self.out.extend)
        if self.log and self.out:  # the stop reply of the last resume
            self.log[-1] = (self.log[-1][0], self.log[-1][1] + bytes(self.out))
        self.out.clear()
        while self.requests:
            request = self.requests.pop(0)
            self.session.receive(request)
            self.log.append((request, bytes(self.out)))
            self.out.clear()
            if self.session.running:
                return RESUMED
        return KILLED


@pytest.fixture(scope="module")
def addresses():
    """Symbols and a pt_regs slot of the same (deterministic) machine, booted here."""
    kern = booted_kernel(2)
    kthreadd = find_task_by_pid(kern, 2)
    return {
        "helper": kern.symbols["kernel_thread_helper"],
        "kernel_init": kern.symbols["kernel_init"],
        # The eflags switch_to's pushfl saved on kthreadd's stack, below its pt_regs
        # and the runtime's frame records (kernel_model/runtime.py).
        "kthreadd_flags": kthreadd.thread.sp + 4,
    }


class Args:
    cpus, profile, seed, load, run_line, cflags = "2", "rhel6", None, [], None, None


def transcript(*requests, kern=None, monitor=False) -> list[tuple[bytes, bytes]]:
    """The log of ``requests`` (after a no-ack handshake); ``monitor``: with
    gdbserver's monitor (the debugger's shell) behind qRcmd."""
    kern = kern or unbooted_machine(Args())
    target = KernelTarget(kern)
    if monitor:
        target.monitor_command = Monitor(kern, target.engine)
    server = Scripted([b"+" + pkt(b"QStartNoAckMode"), b"+", *requests])
    target.serve(server)
    assert not server.requests, "the machine stopped before the script ended"
    return server.log[2:]


def test_breakpoint_continue_registers_and_four_steps(addresses):
    helper, kernel_init = addresses["helper"], addresses["kernel_init"]
    log = transcript(
        pkt(b"?"),
        pkt(b"Z0,%x,1" % helper),
        pkt(b"Z0,%x,1" % helper),  # again: still one breakpoint
        pkt(b"c"),
        pkt(b"p3"),  # ebx: the thread function
        pkt(b"p9"),  # eflags
        *[pkt(b"vCont;s:2")] * 4,
        pkt(b"p8"),  # eip
        pkt(b"p0"),  # eax: the argument
        pkt(b"z0,%x,1" % helper),
    )
    assert log == [
        (pkt(b"?"), pkt(b"T05thread:1;core:0;")),  # before boot: init_task on CPU 0
        (pkt(b"Z0,%x,1" % helper), pkt(b"OK")),
        (pkt(b"Z0,%x,1" % helper), pkt(b"OK")),
        (pkt(b"c"), pkt(b"T05swbreak:;thread:2;core:0;")),  # pid 1 is being born
        (pkt(b"p3"), pkt(le(kernel_init))),
        (pkt(b"p9"), pkt(le(0x286))),
        *[(pkt(b"vCont;s:2"), pkt(b"T05thread:2;core:0;"))] * 4,
        (pkt(b"p8"), pkt(le(kernel_init))),
        (pkt(b"p0"), pkt(le(0))),
        (pkt(b"z0,%x,1" % helper), pkt(b"OK")),
    ]


def test_register_writes_segments_refused_and_continue_at_an_address(addresses):
    helper = addresses["helper"]
    log = transcript(
        pkt(b"Z0,%x,1" % helper),
        pkt(b"c"),
        pkt(b"P0=%s" % le(0x1234)),  # eax
        pkt(b"p0"),
        pkt(b"Pa=%s" % le(0x10)),  # cs: refused
        pkt(b"Pa=%s" % le(0x60)),  # cs as it is: nothing changes, allowed
        pkt(b"p4"),  # esp at the helper
        pkt(b"Z0,%x,1" % (helper + 5)),  # call *%ebx
        pkt(b"c%x" % (helper + 4)),  # skip pushl $0 and movl %edx,%eax
        pkt(b"p4"),
        pkt(b"p0"),
    )
    esp = int.from_bytes(bytes.fromhex(log[6][1][1:9].decode()), "little")
    assert log[2:6] == [
        (pkt(b"P0=%s" % le(0x1234)), pkt(b"OK")),
        (pkt(b"p0"), pkt(le(0x1234))),
        (pkt(b"Pa=%s" % le(0x10)), pkt(b"E16")),
        (pkt(b"Pa=%s" % le(0x60)), pkt(b"OK")),
    ]
    assert log[8] == (pkt(b"c%x" % (helper + 4)), pkt(b"T05swbreak:;thread:2;core:0;"))
    # Only push %edx ran: one word below the helper's esp, and eax kept what P wrote.
    assert log[9:] == [(pkt(b"p4"), pkt(le(esp - 4))), (pkt(b"p0"), pkt(le(0x1234)))]


def test_write_watchpoint_guest_store_then_python_store(addresses):
    slot = addresses["kthreadd_flags"]
    log = transcript(
        pkt(b"Z2,%x,4" % slot), pkt(b"c"), pkt(b"p4"), pkt(b"c"), pkt(b"z2,%x,4" % slot)
    )
    assert log == [
        (pkt(b"Z2,%x,4" % slot), pkt(b"OK")),
        # switch_to's pushfl, on kthreadd's stack: the stop is right after the
        # store, and esp is the slot it wrote.
        (pkt(b"c"), pkt(b"T05watch:%x;thread:3;core:0;" % slot)),
        (pkt(b"p4"), pkt(le(slot))),
        # The kernel's Python code stores there next: reported at its next line.
        (pkt(b"c"), pkt(b"T05watch:%x;thread:3;core:0;" % slot)),
        (pkt(b"z2,%x,4" % slot), pkt(b"OK")),
    ]


def test_interrupt_right_after_continue_and_vcont_stop_only():
    log = transcript(pkt(b"c") + b"\x03", pkt(b"vCont;t:1"), pkt(b"vCont;s:9999"))
    assert log == [
        (pkt(b"c") + b"\x03", pkt(b"T02thread:1;core:0;")),
        (pkt(b"vCont;t:1"), pkt(b"T00thread:1;core:0;")),
        (pkt(b"vCont;s:9999"), pkt(b"E02")),
    ]


def test_a_step_on_an_idle_machine_ends_at_once_where_it_was():
    kern = booted_kernel(1)
    eip = le(kern.machine.cpus[0].read("eip"))
    log = transcript(pkt(b"p8"), pkt(b"vCont;s:1"), pkt(b"p8"), kern=kern)
    assert log == [
        (pkt(b"p8"), pkt(eip)),
        (pkt(b"vCont;s:1"), pkt(b"T05thread:1;core:0;")),
        (pkt(b"p8"), pkt(eip)),
    ]


def test_engine_interrupt_is_ignored_while_stopped_and_stops_a_run():
    """What the stub relies on: Ctrl-C at a stop is dropped (the run that follows
    is not cut short); during a run it stops before the next instruction."""
    from debugger.engine import Debugger, QuitDebugger
    from kernel_model.kernel import Kernel

    reasons = []

    def on_stop(stop):
        reasons.append(stop.reason)
        if len(reasons) == 1:
            dbg.interrupt()  # stopped: ignored
            dbg.break_at("kernel_thread_helper")
        elif len(reasons) == 2:
            dbg.delete()
            kern.register_trace("sched_process_fork", lambda parent, child: dbg.interrupt())
        else:
            raise QuitDebugger
        dbg.cont()

    kern = Kernel(1)
    dbg = Debugger(kern, on_stop)
    dbg.timeline = None
    dbg.start()
    assert reasons == ["start", "breakpoint", "signal"]


def rcmd(command: str) -> bytes:
    return pkt(b"qRcmd," + command.encode().hex().encode())


def output(text: str) -> bytes:
    return pkt(text.encode().hex().encode())


def test_a_breakpoint_deleted_behind_gdbs_back_is_gone_and_can_come_back(addresses):
    """`monitor delete` takes gdb's breakpoint too: gdb's z0 for it then answers
    OK (it is gone), and a Z0 of gdb's makes a new one that stops."""
    helper = pkt(b"%x,1" % addresses["helper"])[1:-3]
    log = transcript(
        pkt(b"Z0," + helper),
        pkt(b"c"),
        rcmd("delete"),
        rcmd("info breakpoints"),
        pkt(b"z0," + helper),
        pkt(b"Z0," + helper),
        pkt(b"c"),
        rcmd("info breakpoints"),
        monitor=True,
    )
    assert log[1:5] == [
        (pkt(b"c"), pkt(b"T05swbreak:;thread:2;core:0;")),  # pid 1 being born
        (rcmd("delete"), pkt(b"OK")),
        (rcmd("info breakpoints"), output("No breakpoints or watchpoints.\n")),
        (pkt(b"z0," + helper), pkt(b"OK")),
    ]
    assert log[5:7] == [
        (pkt(b"Z0," + helper), pkt(b"OK")),
        (pkt(b"c"), pkt(b"T05swbreak:;thread:3;core:0;")),  # then pid 2
    ]
    table = bytes.fromhex(log[7][1][1:-3].decode())
    assert re.search(rb"^2 +breakpoint +keep y +0xc01000a7", table, re.M)


def test_one_shell_for_every_monitor_command():
    """History, recording and user commands go on from one `monitor` to the next;
    the lines of one qRcmd run in turn, so raw RSP can define a command."""
    log = transcript(
        rcmd("print 20 + 1"),
        rcmd("print $1 * 2"),
        rcmd("record start"),
        rcmd("record stop"),
        rcmd("define twice\nprint $arg0 * 2\nend"),
        rcmd("twice 8"),
        monitor=True,
    )
    assert [reply for _, reply in log] == [
        output("$1 = 21\n"),
        output("$2 = 42\n"),
        output("Recording the kernel's events (record stop, record save FILE).\n"),
        output("Stopped recording: 0 events.\n"),
        pkt(b"OK"),
        output("$3 = 16\n"),
    ]


def test_monitor_refuses_run_control_and_quit_in_one_line_each():
    log = transcript(
        rcmd("quit"),
        rcmd("define go\nstepi\nend"),
        rcmd("go"),
        rcmd("define foo"),
        pkt(b"?"),
        monitor=True,
    )
    assert [reply for _, reply in log[:4]] == [
        output(f"monitor quit: {QUIT_REFUSED}\n"),
        pkt(b"OK"),
        output("monitor go: run control is gdb's own (continue, stepi, ...)\n"),
        output("define foo: the input ended before `end'\n"),
    ]
    assert log[4] == (pkt(b"?"), pkt(b"T05thread:1;core:0;"))  # still serving


def test_a_command_that_raises_is_an_error_line_and_the_server_goes_on(monkeypatch):
    """Whatever a monitor command raises (here a bug planted in `tasks`), the
    reply is its one line, and the stub serves the next packet."""

    def broken(*_args):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr("kthreadd_emu.shell.commands.tasks.tasks_listing", broken)
    log = transcript(rcmd("tasks"), rcmd("print 1"), pkt(b"?"), monitor=True)
    assert [reply for _, reply in log] == [
        output("internal error: ZeroDivisionError: planted\n"),
        output("$1 = 1\n"),
        pkt(b"T05thread:1;core:0;"),
    ]
