"""The kernel: the machine plus what Linux keeps in globals, boot, and the run loop.

Boot follows start_kernel's order where it matters here: per-CPU areas,
each CPU's GDT, the pid map, init_task as CPU 0's idle task (sched_init),
then the boot code (``main``: rest_init) runs as init_task and, when it
returns, init_task becomes CPU 0's idle loop.  The other CPUs have no task
until kernel_init (pid 1) brings them up in smp_init and forks their idle
tasks (smpboot.py).
"""

import random
import time
from collections import defaultdict
from pathlib import Path

from asm.assembler import assemble_file
from emu.events import BudgetExhausted
from emu.machine import Machine, MachineError
from kernel_model.asm_offsets import asm_defines, python_function_addresses
from kernel_model.completion import init_completion
from kernel_model.consts import CLONE_FILES, CLONE_FS
from kernel_model.cpu import CpuNotifiers
from kernel_model.data import data_symbols, kernel_data
from kernel_model.fork import MAX_THREADS
from kernel_model.headers import percpu_area, task_struct
from kernel_model.init_task import init_idle, init_idle_task
from kernel_model.kernel_errors import SoftLockup
from kernel_model.list import INIT_LIST_HEAD
from kernel_model.main import check_profile, rest_init
from kernel_model.mm import MM
from kernel_model.percpu import cpu_init, per_cpu, per_cpu_symbols, setup_per_cpu_areas
from kernel_model.pid import PidMap
from kernel_model.printk import log_buf_init, printk_line
from kernel_model.process_32 import kernel_thread
from kernel_model.runtime import Runtime, might_sleep
from kernel_model.sched import cpu_idle, rq
from kernel_model.traps import do_debug, handle_fault

ASM_DIR = Path(__file__).resolve().parent.parent / "asm"
KERNEL_SOURCES = ("entry_32.S",)


# Scheduling events a boot may take (a 256-CPU boot takes about 30,000).
BOOT_EVENTS = 1_000_000
# Scheduling events of any run not given its own bound (the debugger's continue):
# a loop around schedule() never exhausts the instruction budget.
RUN_EVENTS = 1_000_000


class Kernel:
    def __init__(
        self, ncpus: int = 1, seed: int | None = None, console=None, budget: int = 1_000_000
    ):
        self.machine = Machine(ncpus)
        self.mem, self.symbols = self.machine.mem, self.machine.symbols
        self.data = kernel_data(self.mem, self.machine.map.data)
        self.rng = random.Random(seed or 0)
        # A scheduling seed picks a random, reproducible interleaving.
        self.sched_rng = random.Random(seed) if seed is not None else None
        self.mm = MM(self.mem)
        self.pidmap = PidMap(self)
        self.runtime = Runtime(self)
        self.runtime.budget = budget
        self.rq = [rq(cpu) for cpu in range(ncpus)]
        self.on_rq: set[int] = set()
        self.rcu_pending: list[tuple] = []  # (CPUs yet to pass a quiescent state, func, arg)
        self.rcu_done: list[tuple] = []  # (func, arg) whose grace period is over
        self.wait_chldexit: set[int] = set()
        self.this_cpu = 0
        self.tainted = False
        self.die_counter = 0
        self.recursive_faults: set[int] = set()  # tasks that oopsed while exiting
        self.log: list[str] = []  # the console: each line printk wrote (kernel_model/printk.py)
        self.console = console
        self.sched_clock = None  # sched_clock(cpu) -> ns, while an instruction clock runs
        self._tracepoints = defaultdict(list)
        self.profile = "rhel6"
        self.cpu_notifiers = CpuNotifiers()
        self.percpu_threads: dict[int, dict] = {}
        self.spawned: dict[int, tuple] = {}
        self.booted = False
        self.boot_time = time.time()
        self.max_threads = MAX_THREADS
        self.machine.trap = lambda cpu, vector: vector == 1 and do_debug(self, cpu)
        self._load_kernel()
        self._setup()

    # -- boot --------------------------------------------------------------

    def _load_kernel(self) -> None:
        m = self.machine
        defines = asm_defines(m.map)
        origin = m.map.text
        for name in KERNEL_SOURCES:
            image = assemble_file(ASM_DIR / name, origin, defines)
            m.load(image)
            origin = (origin + len(image.code) + 15) & ~15
        self.text_end = origin
        for name, addr in python_function_addresses(m.map).items():
            m.add_python_function(name, addr)
        self.runtime.publish(python_function_addresses(m.map))
        for name, addr in {**data_symbols(m.map.data), **per_cpu_symbols(m.map)}.items():
            self.symbols.add(name, addr, 4, "data")

    def load_asm(self, path, defines=None):
        """Assemble and load a user image after the kernel text; returns the image."""
        image = assemble_file(path, self.text_end, {**self.asm_symbols(), **(defines or {})})
        self.load_image(image)
        return image

    def load_image(self, image) -> None:
        """Load an image assembled for ``text_end`` and move text_end past it; an image
        that would run past the text region (into the thunks) is refused."""
        m = self.machine.map
        end = image.origin + len(image.code)
        if image.origin < self.text_end or end > m.text + m.text_size:
            raise MachineError(
                f"an image of {len(image.code)} bytes at {image.origin:#010x} does not fit "
                f"after the kernel text ({self.text_end:#010x}..{m.text + m.text_size:#010x})"
            )
        self.machine.load(image)
        self.text_end = (image.origin + len(image.code) + 15) & ~15

    def asm_symbols(self) -> dict[str, int]:
        """What user assembly is assembled against: asm-offsets and every kernel symbol."""
        return {**asm_defines(self.machine.map), **self.kernel_symbols()}

    def kernel_symbols(self) -> dict[str, int]:
        return {n: s.addr for n, s in self.symbols.by_name.items() if s.kind == "asm"}

    def _setup(self) -> None:
        log_buf_init(self)
        setup_per_cpu_areas(self)
        slot = percpu_area.OFFSETS["current_task"]
        self.runtime.locate_current(
            [per_cpu(self, c).addr + slot for c in range(len(self.machine.cpus))]
        )
        for cpu in range(len(self.machine.cpus)):
            cpu_init(self, cpu, self.rng)
        self.pidmap.init()
        INIT_LIST_HEAD(self.mem, self.data.kthread_create_list.addr)
        init_completion(self, self.data.kthreadd_done)
        init_idle_task(self)

    def start(self, main=None) -> None:
        """Run ``main(kern)`` (a generator function) as init_task's boot code."""
        self.runtime.start_root(
            self.data.init_task, self.start_kernel(main), self.data.init_task.thread.sp0
        )
        self.runtime.resume(0)

    def boot(self, profile: str = "rhel6") -> None:
        """Boot as Linux does (rest_init) and run until every CPU is idle."""
        check_profile(profile)
        self.profile = profile
        self.start(rest_init)
        # Bounded: a boot that never settles (a broken entry path) is a lockup, not a hang.
        self.run(until=lambda: self.booted, max_events=BOOT_EVENTS)
        self.run(max_events=BOOT_EVENTS)

    def spawn(self, main, name: str = "python") -> int:
        """Start ``main(kern)`` (a generator function) in a new kernel thread,
        forked from CPU 0's idle task, which must be the one running there; returns its pid."""
        if self.current(0).addr != self.data.init_task.addr:
            raise RuntimeError("spawn: CPU 0 is not running its idle task")
        token = len(self.spawned) + 1
        while token in self.spawned:
            token += 1
        self.spawned[token] = (name, main)
        self.this_cpu = 0
        pid = kernel_thread(self, self.symbols["python_thread"], token, CLONE_FS | CLONE_FILES)
        if pid < 0:
            del self.spawned[token]
            raise RuntimeError(f"spawn: kernel_thread failed with {pid}")
        return pid

    @might_sleep
    def start_kernel(self, main):
        """init/main.c's start_kernel from sched_init() on: the boot task becomes
        CPU 0's idle task, runs ``main`` (rest_init), then idles."""
        init_idle(self, self.data.init_task, 0)  # sched_init()
        if main is not None:
            yield from main(self)
        yield from cpu_idle(self)

    # -- snapshots -----------------------------------------------------------

    def snapshot(self) -> "KernelSnapshot":
        """Everything needed to come back to this moment (see restore())."""
        return KernelSnapshot(self)

    def restore(self, snap: "KernelSnapshot") -> None:
        """Go back to ``snap``; raises SnapshotError if a long-lived task has moved
        on since (then boot again).  Tasks created since are forgotten."""
        snap.restore(self)

    def live_ranges(self) -> list[tuple[int, int]]:
        """The RAM that holds kernel state now (free stacks and slots need no saving)."""
        m = self.machine.map
        thunks_end = m.thunks + m.thunk_slot * (len(self.machine.python_functions) + 1)
        return [
            (m.text, self.text_end),
            (m.thunks, thunks_end),
            (m.data, m.data + kernel_data.SIZE),
            (m.percpu, m.percpu_copy(len(self.machine.cpus))),
            (self.mm.tasks.first, self.mm.tasks.high_water),
            (self.mm.stacks.first, self.mm.stacks.high_water),
        ]

    # -- the run loop --------------------------------------------------------

    def run(self, until=None, max_events: int | None = None) -> bool:
        """Run all CPUs until ``until()`` holds (True) or every CPU is idle (False).

        ``max_events`` (default RUN_EVENTS) bounds the number of stops: a task that
        keeps yielding never idles."""
        max_events = RUN_EVENTS if max_events is None else max_events
        limit = self.runtime.events + max_events
        self.runtime.stop_at_events = limit
        while not (until and until()):
            if self.runtime.events > limit:
                raise SoftLockup(f"the machine did not settle within {max_events} events")
            busy = self.runtime.busy_cpus()
            if not busy:
                return False
            if self.sched_rng is not None:
                self.sched_rng.shuffle(busy)
            for cpu in busy:
                reason = self.runtime.step(cpu)
                if reason is not None:
                    self._stopped(cpu, reason)
        return True

    def _stopped(self, cpu, reason) -> None:
        if isinstance(reason, BudgetExhausted):
            task = self.current(cpu.index)
            comm = task.comm.decode(errors="replace")
            raise SoftLockup(
                f"BUG: soft lockup - CPU#{cpu.index} stuck for {reason.budget} instructions! "
                f"[{comm}:{task.pid}] at {reason.eip:08x} ({self.symbols.describe(reason.eip)})"
            )
        handle_fault(self, cpu, reason)

    # -- services ------------------------------------------------------------

    def current(self, cpu: int):
        """get_current() of CPU ``cpu``: its per-CPU current_task (the runtime's,
        one home for it)."""
        return self.runtime.current(cpu)

    def current_addr(self, cpu: int) -> int:
        """The address of CPU ``cpu``'s current task (no view)."""
        return self.runtime.current_addr(cpu)

    def task(self, addr: int):
        return task_struct(self.mem, addr)

    def is_text(self, addr: int) -> bool:
        m = self.machine.map
        return m.text <= addr < self.text_end or m.thunks <= addr < m.thunks + m.thunks_size

    def is_task(self, addr: int) -> bool:
        """Does ``addr`` hold a task_struct (allocated, init_task or an idle task)?"""
        return (
            addr in self.mm.tasks.allocated
            or addr == self.data.init_task.addr
            or any(q.idle == addr for q in self.rq)
        )

    def task_alive(self, p) -> bool:
        """A task_struct still allocated and not yet exiting."""
        return p.addr in self.mm.tasks.allocated and p.exit_state == 0

    def warn(self, file: str, func: str, reason: str) -> None:
        """WARN_ON(1): the kernel's warning block; the machine goes on."""
        me = self.current(self.this_cpu)
        self.printk("------------[ cut here ]------------")
        self.printk(f"WARNING: at {file} {func}() ({reason})")
        self.printk(f"Pid: {me.pid}, comm: {me.comm.decode(errors='replace')}")
        self.printk("---[ end trace ]---")

    def printk(self, line: str) -> None:
        """One line of the kernel's own (an oops, a warning) into the log buffer,
        and so to the console."""
        printk_line(self, line)

    def tracepoint(self, name: str, **fields) -> None:
        for probe in self._tracepoints[name]:
            probe(**fields)

    def register_trace(self, name: str, probe) -> None:
        self._tracepoints[name].append(probe)

    def unregister_trace(self, name: str, probe) -> None:
        """Remove ``probe`` from tracepoint ``name`` (nothing if it is not there)."""
        if probe in self._tracepoints[name]:
            self._tracepoints[name].remove(probe)


class KernelSnapshot:
    """A kernel's state at one moment: RAM in use, CPUs, and the Python side."""

    _COPIED = ("spawned", "percpu_threads", "fork_frames")
    _PLAIN = ("this_cpu", "tainted", "die_counter", "booted", "text_end", "max_threads", "profile")

    def __init__(self, kern: Kernel):
        self.machine = kern.machine.save(kern.live_ranges())
        self.runtime = kern.runtime.save()
        self.pools = (kern.mm.stacks.save(), kern.mm.tasks.save())
        self.queues = [q.save() for q in kern.rq]
        self.rcu = (list(kern.rcu_pending), list(kern.rcu_done))
        self.sets = (set(kern.on_rq), set(kern.wait_chldexit), set(kern.recursive_faults))
        self.notifiers = (list(kern.cpu_notifiers.chain), kern.cpu_notifiers.online)
        self.probes = {name: list(probes) for name, probes in kern._tracepoints.items()}
        self.rngs = (kern.rng.getstate(), kern.sched_rng and kern.sched_rng.getstate())
        self.copied = {k: dict(getattr(kern, k)) for k in self._COPIED if hasattr(kern, k)}
        self.plain = {k: getattr(kern, k) for k in self._PLAIN}
        self.log_len, self.pid_max = len(kern.log), kern.pidmap.pid_max

    def restore(self, kern: Kernel) -> None:
        kern.runtime.restore(self.runtime)
        kern.machine.restore(self.machine)
        kern.mm.stacks.restore(self.pools[0])
        kern.mm.tasks.restore(self.pools[1])
        for q, saved in zip(kern.rq, self.queues, strict=True):
            q.restore(saved)
        kern.rcu_pending, kern.rcu_done = list(self.rcu[0]), list(self.rcu[1])
        kern.on_rq, kern.wait_chldexit = set(self.sets[0]), set(self.sets[1])
        kern.recursive_faults = set(self.sets[2])
        kern.cpu_notifiers.chain, kern.cpu_notifiers.online = (
            list(self.notifiers[0]),
            self.notifiers[1],
        )
        kern._tracepoints = defaultdict(list, {k: list(v) for k, v in self.probes.items()})
        kern.rng.setstate(self.rngs[0])
        if kern.sched_rng is not None:
            kern.sched_rng.setstate(self.rngs[1])
        for name, value in self.copied.items():
            setattr(kern, name, dict(value))
        for name, value in self.plain.items():
            setattr(kern, name, value)
        del kern.log[self.log_len :]
        kern.pidmap.pid_max = self.pid_max
