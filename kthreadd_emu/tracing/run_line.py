"""Recording an assembly test's run line: ``record --load FILE --run "..."``.

The run line is the one of an assembly test (docs/asmtest.md), run by
the asmtest machinery itself: the booted test machine, restored to its
snapshot, the file loaded after the kernel text, the routine started as the
line says.  The recorder starts when the machine is restored, so the trace
holds the run, not the boot.
"""

from kthreadd_emu.asmtest.machine import TestMachine
from kthreadd_emu.asmtest.run import Execution
from kthreadd_emu.asmtest.runner import plan_run_line


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


def record_run(recorder, paths, run_line: str, ncpus: int, budget: int, cflags=()) -> Execution:
    """Run ``run_line`` with the files ``paths`` loaded, recording it; returns the execution."""
    machine, plan = plan_run_line(paths, run_line, ncpus, cflags=cflags)
    run = Execution(RecordingMachine(machine, recorder), plan, budget)
    run.execute()
    recorder.stop()
    return run
