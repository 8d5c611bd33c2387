"""Benchmarks.  Each figure is measured in this process next to the baseline, a
bare ``emu_start`` over a 2-instruction block, so ratios hold on a noisy machine."""

import datetime
import gc
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from unicorn import UC_ARCH_X86, UC_MODE_32, UC_PROT_ALL, Uc

from gdbstub.packet import frame
from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD
from kernel_model.exit import do_wait
from kernel_model.kernel import Kernel
from kernel_model.process_32 import kernel_thread
from kthreadd_emu.asmtest.runner import asmtests_per_s
from kthreadd_emu.errors import UsageError
from kthreadd_emu.exactness import stop_count_check
from kthreadd_emu.lifecycles import stress
from kthreadd_emu.output_file import write_output
from kthreadd_emu.progress import NULL
from kthreadd_emu.scenario import booted_kernel, demo_kernel, run_main
from kthreadd_emu.tracing.recorder import Recorder


def best_time(func, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def unicorn_round_trips(count: int) -> None:
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0x1000, 0x1000, UC_PROT_ALL)
    uc.mem_write(0x1000, b"\x90\x90")
    for _ in range(count):
        uc.emu_start(0x1000, 0x1002)


def kernel_thread_lifecycles(count: int) -> None:
    """kernel_thread -> assembly thread function -> do_exit -> reaped by the parent."""
    kern, image = demo_kernel()
    fn = image.symbols["answer"]

    def main(k, out):
        for i in range(count):
            pid = kernel_thread(k, fn, i, CLONE_FS | CLONE_FILES | SIGCHLD)
            yield from do_wait(k, pid)

    run_main(kern, main)


def kthread_run_lifecycles(count: int) -> None:
    """kthread_run -> kthreadd -> the thread runs answer() -> it exits and is reaped."""
    stress(booted_kernel(1), total=count, alive=1)


def boot(ncpus: int) -> tuple[float, int]:
    """Seconds to build and boot an ``ncpus`` machine, and its number of kernel threads."""
    kern = Kernel(ncpus)
    start = time.perf_counter()
    kern.boot()
    return time.perf_counter() - start, kern.data.nr_threads


def record_cost_ratio(ncpus: int, repeats: int) -> float:
    """Booting while recording (kthreadd-emu record) against the same boot without:
    the fastest of ``repeats`` interleaved runs of each, in CPU time (on a shared
    machine the fastest run is the one least disturbed).  Each machine is torn
    down outside the timings."""
    plain, recorded = [], []
    for _ in range(repeats):
        start = time.process_time()
        kern = booted_kernel(ncpus)
        plain.append(time.process_time() - start)
        del kern
        recorder = Recorder()
        start = time.process_time()
        kern = booted_kernel(ncpus, before_boot=recorder.start)
        recorder.stop()
        recorded.append(time.process_time() - start)
        del kern, recorder
    return min(recorded) / min(plain)


def stack_svg_cold_start() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "kthreadd_emu.cli", "stack", "--pid", "2"]
        subprocess.run([*cmd, "--svg", str(Path(tmp) / "k.svg")], check=True)


def ps_cold_start() -> None:
    cmd = [sys.executable, "-m", "kthreadd_emu.cli", "ps", "--cpus", "3"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def asm_source_bytes_per_s(size: int = 100_000) -> float:
    """Source bytes per second through asm.assembler.assemble, on a generated routine of
    ``size`` bytes in the style of an unrolled hash round (loads, rotates, adds, xors,
    labels and short and long branches).  A fresh comment line each run defeats the
    image cache, so every run lays the whole source out again."""
    from asm.assembler import assemble

    regs = ("%eax", "%ebx", "%ecx", "%edx", "%esi", "%edi")
    lines, block = [], 0
    while sum(map(len, lines)) < size:
        a, b, c = regs[block % 6], regs[(block + 1) % 6], regs[(block + 2) % 6]
        lines += [
            f"round_{block}:",
            f"\tmovl {4 * (block % 16)}(%ebp), {a}",
            f"\taddl $0x{(block * 0x9E3779B9) & 0xFFFFFFFF:08x}, {a}",
            f"\troll ${block % 31 + 1}, {b}",
            f"\txorl {a}, {b}",
            f"\tleal 0x10(%esp,{c},4), {c}",
            f"\tandl $0xff00ff, {c}",
            f"\tcmpl ${block}, {c}",
            f"\tjne round_{max(block - 1, 0)}",
            f"\tjb round_{max(block - 40, 0)}",
        ]
        block += 1
    source = "\n".join(lines) + "\n"
    runs = iter(range(1_000_000))
    seconds = best_time(lambda: assemble(f"# run {next(runs)}\n" + source, 0xC0100000))
    return len(source) / seconds


def asm_cached_call_s() -> float:
    """Seconds of one `assemble` call the image cache answers (a 300-line source with
    defines, as the test runner calls it thousands of times): the hash of the inputs
    and a fresh copy of the symbols.  Was a timed test (< 200 us)."""
    from asm.assembler import assemble

    source = "\n".join(f"l{i}: addl ${i}, %eax\n\tcall do_exit" for i in range(300)) + "\n"
    defines = {"do_exit": 0xC0200040}
    assemble(source, 0xC0100000, "big.S", defines)
    calls = 1000
    seconds = best_time(
        lambda: [assemble(source, 0xC0100000, "big.S", defines) for _ in range(calls)]
    )
    return seconds / calls


def asm_fuzz_case_s(count: int) -> float | None:
    """Seconds per case of tools/fuzz_asm.py without GNU as (generate, assemble, check
    the verdict), None where the tree has no tools/.  Was a timed test (5,000 cases
    in < 20 s)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tools" / "fuzz_asm.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("fuzz_asm", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    seeds = iter(range(1_000_000))
    return best_time(lambda: module.run(count, next(seeds), differential=False)) / count


def per_run(func, repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` runs of ``func``, sorted."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return sorted(times)


def median(values: list):
    return values[len(values) // 2]


def spread(times: list[float], unit: float) -> str:
    """The fastest and slowest run, in ``unit`` (e.g. round trips per lifecycle)."""
    return f"{times[0] / unit:.1f}-{times[-1] / unit:.1f}"


def rss_256_cpus_mb() -> float:
    """Resident memory (MB, peak) of a process that boots a 256-CPU machine: its
    VmHWM (getrusage's maxrss would also count the pages of the bench process it
    was forked from, which exec only drops afterwards)."""
    code = (
        "from kernel_model.kernel import Kernel; Kernel(256).boot(); "
        "print(next(line.split()[1] for line in open('/proc/self/status') "
        "if line.startswith('VmHWM:')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout) / 1024


STEP_SOURCE = "\t.globl spin\nspin:\tincl %eax\n\tjmp spin\n"


def debug_batch_seconds(
    commands: list[str], ncpus: int = 3, spin: bool = True, cpu: bool = True
) -> float:
    """Seconds of a whole `kthreadd-emu debug --batch` run of ``commands`` (over a
    thread that spins for ever with ``spin``; a process of its own: going back
    forks it): its CPU time (every process of the session), or with ``cpu``
    False the wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        script, source = Path(tmp) / "cmds.gdb", Path(tmp) / "spin.S"
        script.write_text("\n".join(commands) + "\n")
        source.write_text(STEP_SOURCE)
        cmd = [sys.executable, "-m", "kthreadd_emu.cli", "debug", "--cpus", str(ncpus)]
        cmd += ["--batch", "-x", str(script)]
        if spin:
            cmd += ["--load", str(source), "--run", "kthread spin"]
        if cpu:
            return child_cpu_s(cmd)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def debugger_figures(quick: bool) -> dict:
    """stepi per second (one command a step) with the context view off and on,
    reverse-stepi's cost (a step back from a stepped stop), in CPU time, and the
    time to the first prompt (a run with no commands, wall time), on a 3-CPU
    machine."""
    base = ["set context off", "break spin", "continue"]
    steps = 2000 if quick else 20000

    def fastest(commands):  # whole processes: the fastest of 3 is the least disturbed
        return min(debug_batch_seconds(commands) for _ in range(3))

    plain = fastest(base)
    stepping = fastest(base + ["stepi"] * steps)
    with_context = fastest([*base, "set context on"] + ["stepi"] * (steps // 10))
    forward = fastest(base + ["stepi 5000"])
    back = fastest(base + ["stepi 5000"] + ["reverse-stepi"] * 50)
    return {
        "debug_stepi_per_s": steps / (stepping - plain),
        "debug_stepi_context_per_s": (steps // 10) / (with_context - plain),
        "debug_reverse_stepi_s": (back - forward) / 50,
        # The machine stopped before boot, no command: start-up to the first prompt.
        "debug_first_prompt_s": min(
            debug_batch_seconds([], spin=False, cpu=False) for _ in range(3)
        ),
    }


LOOP_SOURCE = """\
\t.globl loop
loop:\tmovl ${iterations}, %ecx
1:\tdecl %ecx
\tjnz 1b
after:\txorl %eax, %eax
\tret
elsewhere:\tnop
\tret
"""
LOOP_RUN = "kthread loop budget=100000000"


def loop_file(tmp: Path, iterations: int) -> Path:
    """A thread looping ``iterations`` times (2 instructions each), as an assembly test."""
    path = tmp / f"loop{iterations}.S"
    head = f"#@ test loop\n#@ run {LOOP_RUN}\n#@ expect exit == 0\n"
    path.write_text(head + LOOP_SOURCE.format(iterations=iterations))
    return path


def child_cpu_s(cmd: list[str], stdin: str | None = None) -> float:
    """CPU seconds of a whole command (and the children it reaped)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, input=stdin, text=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kthreadd_emu.cli", *args]


def asmtest_cpu_s(path: Path) -> float:
    return child_cpu_s(cli("asmtest", str(path)))


def debug_continue_cpu_s(path: Path) -> float:
    """`debug --load --run`, a breakpoint after the loop and one elsewhere, continue
    (going back available: checkpoints are taken), quit."""
    commands = "set context off\nbreak after\nbreak elsewhere\ncontinue\nquit\n"
    return child_cpu_s(cli("debug", "--load", str(path), "--run", LOOP_RUN), stdin=commands)


def stub_continue_cpu_s(path: Path, addresses: tuple[int, int]) -> float:
    """Through the gdb stub: Z0 at ``addresses`` (after the loop, elsewhere), c, and
    its stop reply; the server's CPU time from c to the reply (its schedstat)."""
    import socket

    proc = subprocess.Popen(cli("gdbserver", "--port", "0", "--load", str(path), "--run",
                                LOOP_RUN), stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ask = packet_asker(sock)
            ask(b"+$QStartNoAckMode#b0")
            sock.sendall(b"+")
            for addr in addresses:
                ask(frame(b"Z0,%x,1" % addr))
            start = cpu_ns(proc.pid)
            reply = ask(frame(b"c"))
            seconds = (cpu_ns(proc.pid) - start) / 1e9
            assert reply.startswith(b"$T05swbreak"), reply
            sock.sendall(frame(b"k"))
        proc.wait(30)
        return seconds
    finally:
        proc.kill()
        proc.wait(10)


def session_tree_kb(root: int) -> tuple[int, int, int]:
    """(PSS of ``root`` and every process below it, RSS of ``root``, how many
    below it), in KiB, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            parents.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        kids = parents.get(todo.pop(), [])
        tree += kids
        todo += kids
    return sum(_kb(p, "Pss:") for p in [root, *tree]), _kb(root, "Rss:"), len(tree)


def _kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reverse_session(path: Path) -> tuple[float, float, float, float, int]:
    """`debug` over the loop, a breakpoint at its start and one after it, stopped at
    the first: continue (the forward run, to the one after the loop); the
    checkpoints' memory there (every process's PSS less the session's RSS);
    reverse-continue back to the start (its hit is in the log); forward again, a
    new breakpoint at the start (set now: a scan of the whole history finds it),
    reverse-continue.  (forward s, back s, back by scanning s, MB, processes), wall
    times measured from the command to the stop line."""
    proc = subprocess.Popen(cli("debug", "--load", str(path), "--run", LOOP_RUN),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip

    def until(commands: str, marker: str) -> float:
        start = time.perf_counter()
        proc.stdin.write(commands)
        proc.stdin.flush()
        for line in proc.stdout:
            if line.startswith(marker):
                return time.perf_counter() - start
        raise RuntimeError(f"the session ended before {marker!r}")

    try:
        until("set context off\nbreak loop\nbreak after\ncontinue\n", "Breakpoint 1,")
        forward = until("continue\n", "Breakpoint 2,")
        pss, rss, copies = session_tree_kb(proc.pid)
        back = until("reverse-continue\n", "Breakpoint 1,")
        until("continue\n", "Breakpoint 2,")
        until("delete 1\nbreak loop\necho READY\\n\n", "READY")
        scanned = until("reverse-continue\n", "Breakpoint 3,")
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        proc.wait(60)
        return forward, back, scanned, (pss - rss) / 1024, copies
    finally:
        proc.kill()
        proc.wait(10)


def reverse_figures(repeats: int, iterations: int) -> dict:
    """reverse-continue from the end of a session of 2 x ``iterations`` instructions
    back to the breakpoint hit at its start, against the forward run that went
    from there to the end; the checkpoints' memory at the end."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = [reverse_session(loop_file(Path(tmp), iterations)) for _ in range(repeats)]
    forward = sorted(r[0] for r in runs)
    logged = sorted(r[1] / r[0] for r in runs)
    scanned = sorted(r[2] / r[0] for r in runs)
    memory = sorted(r[3] for r in runs)
    return {
        "reverse_100m_forward_s": median(forward),
        "reverse_100m_forward_spread_s": f"{forward[0]:.2f}-{forward[-1]:.2f}",
        "reverse_100m_back_to_a_logged_hit_vs_forward": median(logged),
        "reverse_100m_back_to_a_logged_hit_spread": f"{logged[0]:.3f}-{logged[-1]:.3f}",
        "reverse_100m_back_by_scanning_vs_forward": median(scanned),
        "reverse_100m_back_by_scanning_spread": f"{scanned[0]:.2f}-{scanned[-1]:.2f}",
        "reverse_100m_processes": median(sorted(r[4] for r in runs)),
        "reverse_100m_checkpoint_mb": median(memory),
        "reverse_100m_checkpoint_mb_spread": f"{memory[0]:.1f}-{memory[-1]:.1f}",
    }


def packet_asker(sock):
    """ask(request bytes) -> the next reply packet (``$...#xx``)."""

    def ask(request: bytes) -> bytes:
        sock.sendall(request)
        reply = b""
        while len(reply) < 3 or reply[-3:-2] != b"#":
            reply += sock.recv(4096)
        return reply.lstrip(b"+")

    return ask


def cpu_ns(pid: int) -> int:
    """CPU time a process's main thread has run (Linux schedstat), in ns."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def continue_figures(repeats: int, iterations: int) -> dict:
    """`continue` over a loop of ``iterations`` (2 instructions each) to a breakpoint
    after it, another one elsewhere, going back available: in the debugger and
    through the gdb stub, against the plain `asmtest` run of the same loop; each
    side minus the same file with a 1-iteration loop, in CPU time, interleaved runs."""
    from kthreadd_emu.options import prepared_run

    with tempfile.TemporaryDirectory() as tmp:
        long, short = loop_file(Path(tmp), iterations), loop_file(Path(tmp), 1)
        kern = prepared_run([str(long)], LOOP_RUN, 3)
        addresses = (kern.symbols["after"], kern.symbols["elsewhere"])
        plain, debug, stub = [], [], []
        for _ in range(repeats):
            plain.append(asmtest_cpu_s(long) - asmtest_cpu_s(short))
            debug.append(debug_continue_cpu_s(long) - debug_continue_cpu_s(short))
            stub.append(
                stub_continue_cpu_s(long, addresses) - stub_continue_cpu_s(short, addresses)
            )
    debug_ratios = sorted(d / p for d, p in zip(debug, plain, strict=True))
    stub_ratios = sorted(d / p for d, p in zip(stub, plain, strict=True))
    return {
        "continue_10m_plain_asmtest_s": median(sorted(plain)),
        "continue_10m_debug_s": median(sorted(debug)),
        "continue_10m_debug_vs_plain": median(debug_ratios),
        "continue_10m_debug_vs_plain_spread": f"{debug_ratios[0]:.2f}-{debug_ratios[-1]:.2f}",
        "continue_10m_stub_s": median(sorted(stub)),
        "continue_10m_stub_vs_plain": median(stub_ratios),
        "continue_10m_stub_vs_plain_spread": f"{stub_ratios[0]:.2f}-{stub_ratios[-1]:.2f}",
    }


def gdb_stub_stepi_per_s(count: int) -> float:
    """Single steps through the gdb stub, a client on a TCP socket of 127.0.0.1 in
    this process: ``vCont;s`` (the machine's next instruction, on any thread) and
    its stop reply, ``count`` times, from before the
    boot of an 8-CPU machine (the machine runs in a thread of its own, as in
    kthreadd-emu gdbserver)."""
    import socket
    import threading

    from gdbstub.server import GdbServer
    from kthreadd_emu.for_gdb.target import KernelTarget
    from kthreadd_emu.scenario import record_fork_frames

    kern = Kernel(8)
    record_fork_frames(kern)
    target, server = KernelTarget(kern), GdbServer("127.0.0.1", 0)
    machine = threading.Thread(target=target.serve, args=(server,), daemon=True)
    machine.start()
    with socket.create_connection(server.address, timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def ask(request: bytes) -> bytes:
            sock.sendall(request)
            reply = b""
            while len(reply) < 3 or reply[-3:-2] != b"#":
                reply += sock.recv(4096)
            return reply

        ask(b"+$QStartNoAckMode#b0")
        sock.sendall(b"+")
        start = time.perf_counter()
        for _ in range(count):
            assert ask(b"$vCont;s#b8").startswith(b"$T05thread:")
        seconds = time.perf_counter() - start
        sock.sendall(b"$k#6b")
    machine.join(30)
    return count / seconds


def gdb_elf_figures(repeats: int) -> dict:
    """`kthreadd-emu elf` for a 256-CPU machine: writing the ELF (kernel_elf on the
    booted machine, median of ``repeats``) and the whole command (boot included);
    then gdb's start-up on that ELF reading its DWARF (``gdb -batch -ex 'ptype
    struct task_struct'``; None where gdb is not installed)."""
    import shutil

    from kthreadd_emu.for_gdb.kernel_elf import kernel_elf

    kern = booted_kernel(256)
    writes = per_run(lambda: kernel_elf(kern), repeats)
    with tempfile.TemporaryDirectory() as tmp:
        elf = Path(tmp) / "k.elf"
        cmd = [sys.executable, "-m", "kthreadd_emu.cli", "elf", "--cpus", "256", "-o", str(elf)]
        commands = per_run(lambda: subprocess.run(cmd, check=True, capture_output=True), repeats)
        gdb = shutil.which("gdb")
        ptype = [gdb, "-nx", "-batch", str(elf), "-ex", "ptype struct task_struct"]
        starts = (
            per_run(lambda: subprocess.run(ptype, check=True, capture_output=True), repeats)
            if gdb
            else None
        )
    missing = "no gdb installed"
    return {
        "elf_256_cpus_write_ms": median(writes) * 1000,
        "elf_256_cpus_write_spread_ms": spread(writes, 0.001),
        "elf_256_cpus_command_s": median(commands),
        "elf_256_cpus_command_spread_s": spread(commands, 1),
        "gdb_ptype_task_struct_start_s": median(starts) if starts else missing,
        "gdb_ptype_task_struct_spread_ms": spread(starts, 0.001) if starts else missing,
    }


def run_benchmarks(quick: bool = False, bar=NULL) -> dict:
    """Every figure; ``bar`` (a kthreadd_emu.progress bar) advances once per stage."""
    n = 300 if quick else 3000

    def stage(name, func):
        bar.describe(name)
        gc.collect()  # each stage starts on a collected heap, not the last one's garbage
        value = func()
        bar.advance()
        return value

    round_trip = stage(
        "unicorn round trips", lambda: best_time(lambda: unicorn_round_trips(n * 20)) / (n * 20)
    )
    # Medians of 5 runs (1 with --quick), with the spread: the machine is shared.
    repeats = 1 if quick else 5
    lifecycles = stage(
        "kernel_thread lifecycles", lambda: per_run(lambda: kernel_thread_lifecycles(n), repeats)
    )
    kthread_lifecycles = stage(
        "kthread_run lifecycles", lambda: per_run(lambda: kthread_run_lifecycles(n), repeats)
    )
    lifecycle, kthread_lifecycle = median(lifecycles) / n, median(kthread_lifecycles) / n
    # The same number of boots of each size, and the median: a best-of-many for the
    # small machine against fewer runs of the big one would bias the ratio.
    boots4 = stage("boots, 4 CPUs", lambda: sorted(boot(4) for _ in range(repeats)))
    boots256 = stage("boots, 256 CPUs", lambda: sorted(boot(256) for _ in range(repeats)))
    (t4, threads4), (t256, threads256) = median(boots4), median(boots256)
    ratios = sorted((b[0] / b[1]) / (t4 / threads4) for b in boots256)
    rss = stage("resident memory, 256 CPUs", rss_256_cpus_mb)
    recording = stage("recording a 256-CPU boot", lambda: record_cost_ratio(256, repeats))
    cold = stage("ps cold start", lambda: best_time(ps_cold_start))
    svg = stage("stack --svg cold start", lambda: best_time(stack_svg_cold_start))
    asmtests = stage("assembly tests", lambda: asmtests_per_s(100 if quick else 1000))
    debugger = stage("the debugger", lambda: debugger_figures(quick))
    iterations = 500_000 if quick else 5_000_000  # 10M instructions (1M with --quick)
    continued = stage("continue at full speed", lambda: continue_figures(repeats, iterations))
    back = stage("going back", lambda: reverse_figures(1 if quick else 3, iterations * 10 - 10_000))
    exact = stage("stop counts", lambda: stop_count_check(seed=1, stops=300 if quick else 3000))
    stepi = stage("gdb stub stepi", lambda: gdb_stub_stepi_per_s(300 if quick else 3000))
    elf = stage("gdb ELF, 256 CPUs", lambda: gdb_elf_figures(repeats))
    return {
        "unicorn_round_trips_per_s": 1 / round_trip,
        "kernel_thread_lifecycles_per_s": 1 / lifecycle,
        "kernel_thread_lifecycle_in_round_trips": lifecycle / round_trip,
        "kernel_thread_lifecycle_spread": spread(lifecycles, n * round_trip),
        "kthread_run_lifecycles_per_s": 1 / kthread_lifecycle,
        "kthread_run_lifecycle_in_round_trips": kthread_lifecycle / round_trip,
        "kthread_run_lifecycle_spread": spread(kthread_lifecycles, n * round_trip),
        "boot_256_cpus_s": t256,
        "boot_256_cpus_in_round_trips": t256 / round_trip,
        "boot_256_cpus_threads": threads256,
        "boot_per_thread_cost_ratio_256_vs_4": (t256 / threads256) / (t4 / threads4),
        "boot_per_thread_cost_ratio_spread": f"{ratios[0]:.2f}-{ratios[-1]:.2f}",
        "rss_256_cpus_mb": rss,
        "record_256_cpus_cost_ratio": recording,
        "ps_cpus3_cold_start_s": cold,
        "stack_svg_cold_start_s": svg,
        "asmtests_per_s": asmtests,
        "asm_source_bytes_per_s": stage("assembler", asm_source_bytes_per_s),
        "asm_cached_call_in_round_trips": stage("assembler cache", asm_cached_call_s) / round_trip,
        "asm_fuzz_case_in_round_trips": _in_round_trips(
            stage("assembler fuzz cases", lambda: asm_fuzz_case_s(200 if quick else 1000)),
            round_trip,
        ),
        **debugger,
        **continued,
        **back,
        "stop_count_checked_stops": exact["stops"],
        "stop_count_differences_from_stepi": exact["differences"],
        "stop_count_stepi_vs_every_instruction_hook_differences": exact["independent_differences"],
        "gdb_stub_stepi_per_s": stepi,
        **elf,
    }


def _in_round_trips(seconds: float | None, round_trip: float) -> float | None:
    return None if seconds is None else seconds / round_trip


BENCH_STAGES = 19


# The part of docs/performance.md that ``bench --page`` rewrites.
PAGE_BEGIN, PAGE_END = "<!-- bench: begin -->", "<!-- bench: end -->"


def figure_text(value) -> str:
    """A figure as the tables print it: big numbers whole, small ones to 3 digits."""
    if not isinstance(value, float):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def figures_table(results: dict) -> str:
    """The figures of one run as a Markdown table, under what the run was on."""
    import unicorn

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"Run on {datetime.date.today()}: {os.cpu_count()} CPUs (load average {load} at the "
        f"end), Python {platform.python_version()}, Unicorn {unicorn.__version__}.",
        "",
        "| figure | value |",
        "|---|---|",
        *(f"| `{key}` | {figure_text(value)} |" for key, value in results.items()),
    ]
    return "\n".join(lines)


def page_parts(path: str) -> tuple[str, str]:
    """The text of the page at ``path`` up to its begin marker and from its end
    marker, read before the run (a page with no markers is refused at once)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeError) as err:
        raise UsageError(f"--page {path}: {getattr(err, 'strerror', None) or err}") from None
    start, end = text.find(PAGE_BEGIN), text.find(PAGE_END)
    if start < 0 or end < start:
        raise UsageError(f"--page {path}: no {PAGE_BEGIN} ... {PAGE_END} lines to write in")
    return text[: start + len(PAGE_BEGIN)], text[end:]


def write_page(path: str, parts: tuple[str, str], results: dict) -> None:
    """The figures of ``results`` between the page's markers."""
    head, tail = parts
    write_output(path, f"{head}\n{figures_table(results)}\n{tail}")
