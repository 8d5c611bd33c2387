"""The debugger's engine drives a real boot: breakpoints on guest code and on
Python kernel functions, exact instruction steps, finish, watchpoints, sleeping
tasks' saved registers, and going back (fork checkpoints) to exactly the state
the forward run had."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from debugger.engine import Debugger, DebuggerError, QuitDebugger
from emu.disasm import disassemble
from kernel_model.kernel import Kernel
from kernel_model.main import rest_init


def session(commands, ncpus=1):
    """Run a boot under the debugger; each command is called at a stop with the
    engine and the stop, and must resume it.  Returns the stops."""
    kern = Kernel(ncpus)
    kern.start(rest_init)
    stops = []

    def on_stop(stop):
        stops.append((stop, dbg.registers()))
        if not commands:
            raise QuitDebugger
        commands.pop(0)(dbg, stop)

    dbg = Debugger(kern, on_stop)
    dbg.start()
    return stops, dbg, kern


def test_first_kernel_thread_helper_hit_is_pid_1_being_born():
    stops, dbg, kern = session([lambda d, s: d.break_at("kernel_thread_helper") or d.cont()])
    stop, regs = stops[1]
    assert stop.reason == "breakpoint" and stop.pid == 1
    assert regs["eip"] == kern.symbols["kernel_thread_helper"]
    assert regs["ebx"] == kern.symbols["kernel_init"]
    assert regs["eflags"] == 0x286 and regs["cs"] == 0x60 and regs["ss"] == 0x68
    assert (regs["ds"], regs["es"], regs["fs"], regs["gs"]) == (0x7B, 0x7B, 0xD8, 0xE0)
    task = kern.task(kern.current_addr(0))
    assert regs["esp"] == task.stack + 0x1FF0


def test_stepi_counts_every_instruction_and_a_python_call_as_one():
    cmds = [lambda d, s: d.break_at("kernel_thread_helper") or d.cont()]
    cmds += [lambda d, s: d.stepi()] * 4
    stops, dbg, kern = session(cmds)
    eips = [regs["eip"] for _, regs in stops[1:]]
    helper = kern.symbols["kernel_thread_helper"]
    # pushl $0; movl %edx,%eax; push %edx; call *%ebx -> the thread function, kernel_init
    assert eips == [helper, helper + 2, helper + 4, helper + 5, kern.symbols["kernel_init"]]
    counts = [s.pc for s, _ in stops[1:]]
    assert counts == eips


def test_python_breakpoint_next_and_finish():
    cmds = [
        lambda d, s: d.break_at("copy_thread") or d.cont(),
        lambda d, s: d.next(),
        lambda d, s: d.finish(),
    ]
    stops, dbg, kern = session(cmds + [lambda d, s: d.cont()])
    hit, after, back = stops[1][0], stops[2][0], stops[3][0]
    assert hit.reason == "breakpoint" and hit.python[2] == "copy_thread"
    assert after.python[2] == "copy_thread" and after.python[1] > hit.python[1]
    assert back.python[2] == "copy_process"


def test_a_sleeping_task_shows_what_switch_to_saved():
    stops, dbg, kern = session([lambda d, s: d.cont()])
    idle = stops[-1][0]
    assert idle.reason == "idle"
    regs = dbg.registers(2)  # kthreadd sleeps in schedule()
    kthreadd = kern.task(kern.data.kthreadd_task)
    assert regs["esp"] == kthreadd.thread.sp and regs["eip"] == kthreadd.thread.ip
    assert regs["ebp"] == kern.mem.u32(kthreadd.thread.sp)
    assert regs["eflags"] == kern.mem.u32(kthreadd.thread.sp + 4)


def test_unknown_symbol_is_an_error():
    with pytest.raises(DebuggerError, match="no symbol"):
        session([lambda d, s: d.break_at("no_such_symbol")])


def test_watchpoint_on_a_guest_store_stops_after_it():
    def watch_canary(d, s):
        # __switch_to stores next's thread.sp0 into this CPU's TSS: watch that word.
        kern = d.kern
        addr = kern.symbols["per_cpu__init_tss"] - kern.machine.map.percpu
        addr += kern.machine.map.percpu_copy(0) + 4
        d.watch(addr, 4, "write")
        d.cont()

    stops, dbg, kern = session([watch_canary])
    stop, regs = stops[1]
    assert stop.reason == "watchpoint" and stop.watch[2] != stop.watch[1]
    # Stopped right after the store: the instruction before eip is __switch_to's
    # load_sp0 store through %fs.
    start = kern.symbols["__switch_to"]
    insns = disassemble(kern.mem.read(start, 32), start)
    store = next(i for i in insns if i.text.startswith("movl %ecx, %fs:"))
    assert regs["eip"] == store.addr + store.size


SCRIPT = textwrap.dedent(
    """
    import json, sys
    from debugger.engine import Debugger, QuitDebugger
    from kernel_model.kernel import Kernel
    from kernel_model.main import rest_init
    kern = Kernel(3); kern.start(rest_init)
    state = {"script": ["b"] + ["si"] * 12 + ["rsi"] * 12 + ["c", "rc", "q"]}
    def on_stop(stop):
        regs = dbg.registers()
        cpus = [kern.machine.cpus[i].regs() for i in range(3)]
        top = kern.task(kern.current_addr(stop.cpu)).stack + 0x1f00
        row = [stop.reason, dbg.icount, regs, cpus, kern.mem.read(top, 256).hex()]
        print(json.dumps(row), flush=True)
        cmd = state["script"].pop(0)
        if cmd == "b": dbg.break_at("ret_from_fork"); dbg.cont()
        elif cmd == "c": dbg.cont()
        elif cmd == "si": dbg.stepi()
        elif cmd == "rsi": dbg.reverse_stepi()
        elif cmd == "rc": dbg.reverse_continue()
        else: raise QuitDebuggerDebugger
    dbg = Debugger(kern, on_stop)
    dbg.ui_state = (lambda: state["script"], lambda s: state.__setitem__("script", s))
    dbg.start()
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="going back needs fork()")
def test_reverse_stepi_gives_back_exactly_the_forward_states():
    """Forward over ret_from_fork's first 12 instructions (through schedule_tail,
    the popfl), then back one by one: every CPU's registers and the new stack's
    top equal the forward pass at each point; reverse-continue finds the
    breakpoint hit before."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    forward, backward = rows[1:14], rows[14:26]
    assert [r[1] for r in forward] == list(range(forward[0][1], forward[0][1] + 13))
    for back, fwd in zip(backward, reversed(forward[:-1]), strict=True):
        assert back[1:] == fwd[1:]
    assert rows[26][0] == "breakpoint" and rows[26][1] > forward[-1][1]  # c: the next one
    assert rows[27][0] == "breakpoint" and rows[27][1:] == forward[0][1:]  # rc: back again


def test_a_code_write_then_eip_written_back_to_the_stop_runs_one_instruction_per_step():
    """Both end the translated block at the stop: the instruction at the new EIP
    (here the same address) is the next one, counted once, and runs as written."""
    helper = []

    def write_then_move(d, s):
        helper.append(s.pc)
        d.delete()
        d.write_memory(s.pc + 2, bytes.fromhex("9090"))  # movl %edx, %eax -> nop; nop
        d.write_register("eip", s.pc)
        d.stepi()

    cmds = [lambda d, s: d.break_at("kernel_thread_helper") or d.cont(), write_then_move]
    stops, dbg, kern = session(cmds + [lambda d, s: d.stepi()] * 2)
    steps = [(s.reason, regs["eip"]) for s, regs in stops[2:]]
    # pushl $0, then each nop.
    assert steps == [("step", helper[0] + 2), ("step", helper[0] + 3), ("step", helper[0] + 4)]


def test_at_a_step_stop_a_jump_and_a_code_write_run_what_the_machine_now_holds():
    """A single step stops inside the hook on every instruction: a new EIP and new
    code there end the run first, so the next step runs the written code at the
    new EIP, each instruction counted once."""
    seen = []

    def note(d, s):
        seen.append((s.reason, s.pc, d.icount))

    def jump_back(d, s):
        note(d, s)  # at helper+2, one step in
        d.write_memory(s.pc - 2, bytes.fromhex("9090"))  # pushl $0 -> nop; nop
        d.write_register("eip", s.pc - 2)
        d.stepi()

    def step(d, s):
        note(d, s)
        d.stepi()

    cmds = [lambda d, s: d.break_at("kernel_thread_helper") or d.cont()]
    cmds += [lambda d, s: note(d, s) or d.delete() or d.stepi(), jump_back, step, step]
    stops, dbg, kern = session(cmds)
    helper = kern.symbols["kernel_thread_helper"]
    (_, at_bp, n0), (_, one_in, n1), (_, first_nop, n2), (_, second_nop, n3) = seen
    assert (at_bp, one_in, first_nop, second_nop) == (helper, helper + 2, helper + 1, helper + 2)
    assert (n1 - n0, n2 - n1, n3 - n2) == (1, 1, 1)
