"""Recording an assembly test's run line: ``record --load FILE.S --run "..."``.

The run line is the one of an assembly test (README, "Assembly tests"), run by
the asmtest machinery itself: the booted test machine, restored to its
snapshot, the file loaded after the kernel text, the routine started as the
line says.  The recorder starts when the machine is restored, so the trace
holds the run, not the boot.
"""

from asm.assembler import read_source
from kthreadd_emu.asmtest.format import TestFormatError, parse_source
from kthreadd_emu.asmtest.machine import TestMachine
from kthreadd_emu.asmtest.plan import make_plan
from kthreadd_emu.asmtest.run import Execution
from kthreadd_emu.errors import UsageError

TEST_NAME = "kthreadd_emu_record"


class RecordingMachine:
    """The test machine, with the recorder (re)started each time it is restored."""

    def __init__(self, machine: TestMachine, recorder):
        self._machine, self._recorder = machine, recorder

    def fresh(self):
        kern = self._machine.fresh()
        self._recorder.start(kern)
        return kern

    def __getattr__(self, name):
        return getattr(self._machine, name)


def record_run(recorder, path: str, run_line: str, ncpus: int, budget: int) -> Execution:
    """Run ``run_line`` with ``path`` loaded, recording it; returns the execution."""
    source = read_source(path)
    if "\n" in run_line:
        raise UsageError("--run: one run line, without newlines")
    # The run line becomes a test of its own, appended to the file (a test needs
    # one check; this one always holds).
    tfile = parse_source(
        f"{source}\n#@ test {TEST_NAME}\n#@ run {run_line}\n#@ expect 0 == 0\n", str(path)
    )
    test = tfile.tests[-1]
    try:
        if test.error is not None:
            raise test.error
        machine = TestMachine(ncpus)
        image = machine.assemble(tfile.source, str(path))
        plan = make_plan(machine, test, image, machine.names(image))
    except TestFormatError as err:
        raise UsageError(f"--run: {err.message}") from None
    run = Execution(RecordingMachine(machine, recorder), plan, budget)
    run.execute()
    recorder.stop()
    return run
