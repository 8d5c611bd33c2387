"""A parsed test made ready to run against an assembled file: the routine's
address, the argument's value, the label addresses of its `at` lines, and
every name of its expressions checked, so a typo is a ``file:line`` error
before anything runs."""

from dataclasses import dataclass, field

from debugger.expr import EXIT, REGISTERS, TASK_NAMES, EvalError
from kthreadd_emu.asmtest.format import AsmTest, Check, TestFormatError

NOT_CODE = "not a label of this file or of the kernel's code"


@dataclass
class Plan:
    test: AsmTest
    images: tuple  # what the run loads, in order: the test's file last
    names: dict[str, int]
    fn: int
    arg: int = 0
    at_label: dict[int, list[Check]] = field(default_factory=dict)
    at_return: list[Check] = field(default_factory=list)
    outcomes: list[Check] = field(default_factory=list)  # all of one kind

    @property
    def image(self):
        """The test's own file."""
        return self.images[-1]

    def addresses(self) -> list[int]:
        """Where code hooks go: the routine's entry and every `at` label."""
        return sorted({self.fn, *self.at_label})


class _Constants:
    """Expression environment for ``arg=``: symbols only, nothing of a run."""

    def __init__(self, names: dict[str, int]):
        self.constant_names = names

    def name(self, name: str) -> int:
        return self.constant_names[name]

    def _unavailable(self, *args):
        raise EvalError("arg= is computed before the run: it cannot read memory or pt_regs")

    read = string = ptregs = per_cpu = _unavailable


def make_plan(machine, test: AsmTest, images: tuple, names: dict[str, int]) -> Plan:
    """Raises TestFormatError (at the offending line) for anything unresolved."""
    run = test.run

    def fail(message: str, line: int = run.line, text: str = run.text):
        return TestFormatError(test.path, line, text, message)

    fn = machine.code_address(images, run.routine)
    if fn is None:
        raise fail(f"unknown routine {run.routine!r}: {NOT_CODE}")
    if run.cpu is not None and run.cpu >= machine.ncpus:
        raise fail(f"cpu={run.cpu}: the machine has {machine.ncpus} CPUs")
    plan = Plan(test, images, names, fn)
    if run.arg is not None:
        _check_names(run.arg, set(), names, fail)
        try:
            plan.arg = run.arg.value(_Constants(names)) & 0xFFFFFFFF
        except EvalError as err:
            raise fail(str(err)) from None
    for check in test.checks:
        _add_check(machine, plan, check, lambda m, c=check: fail(m, c.line, c.text))
    return plan


def _add_check(machine, plan: Plan, check: Check, fail) -> None:
    if check.outcome is not None:
        plan.outcomes.append(check)
    elif check.where is None:
        _check_names(check.expr, TASK_NAMES | {EXIT}, plan.names, fail)
    else:
        _check_names(check.expr, TASK_NAMES | REGISTERS, plan.names, fail)
        if check.where == "return":
            plan.at_return.append(check)
            return
        addr = machine.code_address(plan.images, check.where)
        if addr is None:
            raise fail(f"unknown label {check.where!r}: {NOT_CODE}")
        plan.at_label.setdefault(addr, []).append(check)


def _check_names(expr, builtins: set[str], names: dict[str, int], fail) -> None:
    for name in sorted(expr.names):
        if name in builtins or name in names and name not in REGISTERS | TASK_NAMES | {EXIT}:
            continue
        if name in REGISTERS:
            raise fail(f"{name}: registers are known only in '#@ at' lines")
        if name == EXIT:
            raise fail("exit: the exit code is known only after the run, in '#@ expect' lines")
        if name in TASK_NAMES:
            raise fail(f"{name}: the thread does not exist yet when arg= is computed")
        raise fail(f"unknown name {name!r}")
