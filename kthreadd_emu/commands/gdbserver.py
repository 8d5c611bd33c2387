"""kthreadd-emu gdbserver: the GDB Remote Serial Protocol over TCP, every kernel
task a gdb thread (gdbstub/, kthreadd_emu/for_gdb/target.py)."""

import io
import ipaddress
import os
import sys
import traceback

from debugger.engine import DebuggerError, QuitDebugger
from debugger.ps import ps_auxf
from debugger.ptregs import as_show_regs
from gdbstub.handlers import internal_error
from gdbstub.server import GdbServer
from kernel_model.process_32 import task_pt_regs
from kthreadd_emu.errors import UsageError, complain, parse_int
from kthreadd_emu.for_gdb.kernel_elf import write_kernel_elf
from kthreadd_emu.for_gdb.target import KernelTarget
from kthreadd_emu.options import (
    add_load_option,
    add_machine_options,
    add_run_option,
    booted_with_image,
    pick_task,
    unbooted_machine,
)
from kthreadd_emu.output_file import check_output
from kthreadd_emu.scenario import fork_frame, record_fork_frames
from kthreadd_emu.shell.registry import COMMANDS
from kthreadd_emu.shell.script import Lines
from kthreadd_emu.shell.shell import Shell

QUIT_REFUSED = (
    "the monitor does not end the session: gdb's kill ends the server, "
    "detach or quit leaves it running"
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "gdbserver",
        help="boot, then serve gdb over TCP (every kernel task is a gdb thread)",
        description="Wait for gdb (target remote HOST:PORT) with the machine stopped "
        "before boot (continue boots it), or booted and idle (--booted).  Every task is a "
        "thread (id = pid + 1) with its own registers.  One client at a time.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument("--port", default="1234", help="TCP port, 0 for any free one (default 1234)")
    add_machine_options(p)
    p.add_argument("--booted", action="store_true",
                   help="boot first (until every CPU is idle), then wait for gdb")  # fmt: skip
    add_load_option(p, "a file loaded after the kernel")
    add_run_option(p, "an assembly test's run line")
    p.add_argument("--elf", metavar="FILE", help="also write the kernel's ELF file there "
                   "(gdb learns its name through qXfer:exec-file)")  # fmt: skip
    p.set_defaults(run=run)


def run(args) -> int:
    port = parse_int(args.port, "--port", 0, 65535)
    if args.run_line is not None and args.booted:
        raise UsageError("--run starts its own run on the test machine: no --booted")
    loopback = is_loopback(args.host)
    if args.elf is not None:
        check_output(args.elf)
    kern = booted_with_image(args) if args.booted else unbooted_for_gdb(args)
    if args.elf is not None:
        write_kernel_elf(args.elf, kern)
    # gdb opens the file by this name (qXfer:exec-file), from its own folder;
    # a FIFO or a device (--elf /dev/null) holds no file for it to open.
    exec_path = os.path.abspath(args.elf) if args.elf and os.path.isfile(args.elf) else None
    target = KernelTarget(kern, exec_path=exec_path)
    target.monitor_command = Monitor(kern, target.engine)
    server = GdbServer(args.host, port, on_error=log_internal_error)
    if not loopback:
        warning = f"listening on {args.host}, not loopback: whoever reaches it owns the machine"
        print(f"kthreadd-emu: gdbserver: warning: {warning}", file=sys.stderr)
    host, bound = server.address
    print(f"gdbserver: {len(target.threads())} threads on {len(kern.machine.cpus)} CPUs; "
          f"listening on {host}:{bound}", flush=True)  # fmt: skip
    target.serve(server)
    return 0


def unbooted_for_gdb(args):
    """The machine stopped before boot, as `kthreadd-emu debug` has it (the engine
    boots it on the first continue), keeping each child's fork frame for
    ``monitor ptregs``."""
    kern = unbooted_machine(args)
    if args.run_line is None:  # the assembly tests' machine keeps them already
        record_fork_frames(kern)
    return kern


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Monitor:
    """``monitor ps``, ``monitor ptregs PID`` (``monitor info gdt`` is the target's),
    and any other command of the debugger's shell (``monitor tasks``, ``monitor
    info segments``, ``monitor x/4xw $esp``, ...), run on the same engine.

    One shell lives as long as the server, as a QEMU monitor lives with QEMU: its
    value history, user commands and recording go on from one command (and one
    client) to the next.  The lines of one command run in turn, so a raw qRcmd of
    ``define NAME``, its body and ``end`` defines a command.  Run control stays
    gdb's own, and so does the session: the shell's engine refuses to resume the
    machine, and ``quit`` is refused in one line (gdb's ``kill`` ends the server).
    Whatever else a command raises, the stub answers with its one line."""

    def __init__(self, kern, engine):
        self.kern, self.engine, self.line = kern, engine, ""
        self.out = io.StringIO()
        self.shell = Shell(kern, lambda _kern, _on_stop: GdbRunsTheMachine(self),
                           out=self.out, err=self.out, batch=True)  # fmt: skip
        engine.evaluator = self.shell.condition  # `monitor break LOC if COND`

    def __call__(self, command: str) -> str:
        self.shell.s.stop = self.engine.last_stop
        self.shell.lines = Lines(command.splitlines())
        try:
            for line in self.shell.lines:
                self.line = line.strip()
                if self.line:
                    self.run(self.line)
        except UsageError as err:
            self.out.write(f"{err}\n")
        except QuitDebugger:
            self.out.write(f"monitor {self.line}: {QUIT_REFUSED}\n")
        text = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        return text

    def run(self, line: str) -> None:
        kern, words = self.kern, line.split()
        if words == ["ps"]:
            self.out.write("\n".join(ps_auxf(kern)) + "\n")
        elif len(words) == 2 and words[0] == "ptregs":
            task = pick_task(kern, parse_int(words[1], "ptregs PID", 0, 32767))
            frame = task_pt_regs(kern, task)
            values = fork_frame(kern, task.pid) or frame.values()
            self.out.write("\n".join(as_show_regs(kern, task, frame.addr, values)) + "\n")
        else:
            self.shell.execute(line)


class GdbRunsTheMachine:
    """The engine as the monitor's shell sees it: everything but run control."""

    def __init__(self, monitor: Monitor):
        self._monitor = monitor
        self._refused = COMMANDS.resuming_methods()  # the methods resuming commands call

    def __getattr__(self, name: str):
        if name in self._refused:
            raise DebuggerError(f"monitor {self._monitor.line}: run control is gdb's own "
                                "(continue, stepi, ...)")  # fmt: skip
        return getattr(self._monitor.engine, name)


def log_internal_error(err: Exception) -> None:
    """A bug the stub answered for (``internal error: ...``) on the server's stderr
    as well, with its traceback under KTHREADD_EMU_DEBUG=1; the server goes on."""
    if os.environ.get("KTHREADD_EMU_DEBUG"):
        traceback.print_exception(err)
    complain("gdbserver", f"{internal_error(err)} (answered as an error; serving on)")
