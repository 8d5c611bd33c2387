"""What a test's run saw, held against its expectations: the environment its
expressions are evaluated in, what became of the thread (clean exit, oops,
lockup, stack overrun) and the lines that say why a test failed."""

from dataclasses import dataclass, field

from debugger.expr import MASK, MAX_STRING, REGISTERS, EvalError
from emu.disasm import disassemble_one
from kernel_model.headers import percpu_area
from kthreadd_emu.scenario import fork_frame

OVERRUN = "Thread overran stack, or stack corrupted"  # Linux's words (fault.c no_context)


@dataclass
class Verdict:
    """``status`` pass, fail or error, and the lines that say why."""

    status: str
    lines: list[str] = field(default_factory=list)


class Env:
    """What an expectation can see: at a label (``cpu`` given) or after the run."""

    def __init__(self, run, cpu=None):
        self.run, self.cpu = run, cpu
        self.constant_names = run.plan.names

    def name(self, name: str) -> int:
        if name in REGISTERS:
            return self.cpu.read(name)
        if name == "exit":
            if self.run.exit_code is None:
                raise EvalError("the thread did not exit")
            return self.run.exit_code
        if name in ("current", "stack", "cpu"):
            return self._task_value(name)
        return self.run.plan.names[name]

    def _task_value(self, name: str) -> int:
        run = self.run
        if run.task is None:
            raise EvalError(f"{name}: the thread was never created")
        if name == "cpu":
            if self.cpu is not None:
                return self.cpu.index
            if run.entry is None:
                raise EvalError("cpu: the routine never ran")
            return run.entry[0]
        return run.task.addr if name == "current" else run.task.stack

    def read(self, addr: int, size: int) -> bytes:
        word, mem = addr & MASK, self.run.kern.mem
        if not mem.contains(word, size):
            wrapped = "" if word == addr else f"{addr:#x}, as a 32-bit word "
            raise EvalError(f"address {wrapped}{word:#010x} is outside RAM")
        return mem.read(word, size)

    def string(self, addr: int) -> bytes:
        """The C string at ``addr`` (at most MAX_STRING bytes, within RAM)."""
        end = self.run.kern.mem.map.end
        return self.read(addr, max(1, min(MAX_STRING, end - (addr & MASK)))).split(b"\0", 1)[0]

    def ptregs(self, field_name: str) -> int:
        run = self.run
        frame = None if run.task is None else fork_frame(run.kern, run.task.pid)
        if frame is None:
            raise EvalError("ptregs: the thread was never created")
        return frame[field_name]

    def per_cpu(self, addr: int, cpu: int) -> int:
        m = self.run.kern.machine.map
        if not 0 <= cpu < len(self.run.kern.machine.cpus):
            raise EvalError(f"per_cpu: there is no CPU {cpu}")
        if not 0 <= addr - m.percpu < percpu_area.SIZE:
            raise EvalError(f"per_cpu: {addr:#010x} is not a per-CPU variable")
        return addr - m.percpu + m.percpu_copy(cpu)


def verdict(run) -> Verdict:
    if run.setup_error or run.failure:
        where = f"{run.plan.test.path}:{run.spec.line}"
        return Verdict("error", [f"{where}: {run.setup_error or run.failure}"])
    lines = _outcome_lines(run) + _check_lines(run)
    return Verdict("fail" if lines else "pass", lines)


def outcome(run) -> tuple[str, str]:
    """What became of the thread: (kind, report), kind clean, oops, lockup or overrun."""
    if run.overrun:
        return "overrun", run.overrun
    if run.lockup:
        return "lockup", run.lockup
    if run.oopsed:
        return "oops", "\n".join(run.kern.log[run.log_start :])
    if run.exit_code is None and run.task is not None:
        state = run.task.state
        return "lockup", f"the thread never exited: every CPU went idle with it in state {state}"
    return "clean", ""


def _outcome_lines(run) -> list[str]:
    kind, report = outcome(run)
    if not run.plan.outcomes:
        return [] if kind == "clean" else [f"unexpected {kind}:"] + _indent(report)
    lines = [
        f"{_where(run, expected)}: {expected.text}"
        for expected in run.plan.outcomes
        if kind != expected.outcome or expected.pattern not in report
    ]
    if lines:
        lines += ["  but the thread exited cleanly" if kind == "clean" else f"  but {kind}:"]
        lines += _indent(report)
    return lines


def _check_lines(run) -> list[str]:
    lines = []
    for check in run.plan.test.checks:
        if check.outcome is not None:
            continue
        if check.where is None:
            holds, seen = check.expr.evaluate(Env(run))
        else:
            holds, seen = run.results.get(id(check), (False, f"never reached {check.where}"))
        if not holds:
            lines += [f"{_where(run, check)}: {check.text}", f"  {seen}"]
    return lines


def _where(run, check) -> str:
    return f"{run.plan.test.path}:{check.line}"


def _indent(report: str) -> list[str]:
    return ["  " + line for line in report.split("\n") if line]


def last_instructions(run) -> list[str]:
    """The recorded instructions of the thread: CPU, address, symbol, AT&T text."""
    kern, out = run.kern, []
    for cpu, addr in run.last or ():
        name = kern.machine.python_functions.get(addr)
        if name is not None:
            text = f"[python] {name}"
        else:
            text = disassemble_one(kern.mem.read(addr, 16), addr, symbols=kern.symbols).text
        out.append(f"CPU{cpu} {addr:08x} {kern.symbols.describe(addr):<28} {text}")
    return out
