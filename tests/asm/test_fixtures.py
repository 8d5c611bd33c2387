"""Kernel behaviour checked from Python with the plugin's fixtures: ``kernel`` (a
booted machine, fresh for each test) and ``asm`` (assemble and load a routine)."""

from pathlib import Path

import pytest

from asm.assembler import AsmError
from kernel_model.consts import EINTR
from kernel_model.kthread import kthread_create, kthread_run, kthread_stop
from kernel_model.sched import kthread_bind, wake_up_process
from kthreadd_emu.scenario import run_in_thread

HERE = Path(__file__).resolve().parent


def exit_codes(kernel) -> list:
    codes = []
    kernel.register_trace("do_exit", lambda task, code: codes.append((task.comm, code)))
    return codes


def test_asm_loads_a_routine_the_kernel_runs(kernel, asm):
    image = asm("\t.globl triple\ntriple:\n\tleal (%eax,%eax,2), %eax\n\tret\n")
    assert kernel.symbols["triple"] == image.symbols["triple"]
    codes = exit_codes(kernel)

    def main(k, out):
        yield from kthread_run(k, image.symbols["triple"], 14, "triple")

    run_in_thread(kernel, main)
    kernel.run()
    assert (b"triple", 42) in codes


def test_asm_loads_a_file_against_every_kernel_symbol(kernel, asm):
    image = asm(HERE / "percpu.S")
    assert image.origin >= kernel.symbols["kernel_thread_helper"]
    codes = exit_codes(kernel)

    def main(k, out):
        task = k.task((yield from kthread_create(k, image.symbols["cpu_number"], 0, "on2")))
        yield from kthread_bind(k, task, 2)
        wake_up_process(k, task)

    run_in_thread(kernel, main)
    kernel.run()
    assert (b"on2", 2) in codes


def test_two_routines_load_one_after_the_other(kernel, asm):
    first = asm("one:\n\tmovl $1, %eax\n\tret\n")
    second = asm("two:\n\tmovl $2, %eax\n\tret\n")
    assert second.origin >= first.origin + len(first.code)


def test_asm_errors_name_the_file_and_line(asm):
    with pytest.raises(AsmError) as err:
        asm("ok:\n\tret\n\tmovl %eax\n", "broken.S")
    assert str(err.value).startswith("broken.S:3: ") and err.value.text == "movl %eax"


def test_kernel_is_the_same_fresh_machine_for_every_test(kernel, asmtest_machine):
    """What one test does is gone for the next: the same pid comes back."""

    def main(k, out):
        task = k.task((yield from kthread_create(k, k.symbols["kernel_thread_helper"], 0, "x")))
        out["pid"] = task.pid
        out["ret"] = yield from kthread_stop(k, task)

    first = run_in_thread(kernel, main)
    kernel.run()  # let kthreadd go back to sleep where the snapshot has it
    boots = asmtest_machine.boots
    again = asmtest_machine.fresh()
    assert again is kernel and asmtest_machine.boots == boots
    assert run_in_thread(again, main) == first and first["ret"] == -EINTR


def test_a_test_that_stops_a_long_lived_thread_gets_a_new_machine(kernel, asmtest_machine):
    """The snapshot cannot come back once watchdog/0 has exited: boot again."""

    def stop_watchdog(k, out):
        out["ret"] = yield from kthread_stop(k, k.percpu_threads[0]["watchdog"])

    assert run_in_thread(kernel, stop_watchdog)["ret"] == 0
    boots = asmtest_machine.boots
    fresh = asmtest_machine.fresh()
    assert asmtest_machine.boots == boots + 1 and fresh is not kernel
    assert fresh.task_alive(fresh.percpu_threads[0]["watchdog"])
