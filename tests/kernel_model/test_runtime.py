"""The calling convention between Python-implemented kernel functions and guest
code: regparm(3) both ways, stack arguments, and callee-saved registers kept
on the kernel stack across a Python function that sleeps."""

from kernel_model.consts import CLONE_FILES, CLONE_FS, SIGCHLD
from kernel_model.exit import do_wait
from kernel_model.process_32 import kernel_thread
from kernel_model.runtime import call_guest

SOURCE = """
/* keeps_regs(arg): fill the callee-saved registers, sleep in schedule(), check them. */
	.globl keeps_regs
keeps_regs:
	movl %eax, %ebx
	leal 1(%eax), %esi
	leal 2(%eax), %edi
	leal 3(%eax), %ebp
	call schedule
	leal 1(%ebx), %eax
	cmpl %eax, %esi
	jne 1f
	leal 2(%ebx), %eax
	cmpl %eax, %edi
	jne 1f
	leal 3(%ebx), %eax
	cmpl %eax, %ebp
	jne 1f
	movl %ebx, %eax
	ret
1:	movl $-1, %eax
	ret

/* sum5(a, b, c, d, e): a..c in eax, edx, ecx; d and e on the stack. */
	.globl sum5
sum5:
	addl %edx, %eax
	addl %ecx, %eax
	addl 4(%esp), %eax
	addl 8(%esp), %eax
	ret
"""


def load(kern, tmp_path):
    path = tmp_path / "runtime_test.S"
    path.write_text(SOURCE)
    return kern.load_asm(path)


def test_callee_saved_registers_survive_a_sleeping_python_call(demo, boot, tmp_path):
    kern, _ = demo
    fn = load(kern, tmp_path).symbols["keeps_regs"]
    flags = CLONE_FS | CLONE_FILES | SIGCHLD

    def main(k, out):
        pids = [kernel_thread(k, fn, arg, flags) for arg in (100, 200)]
        out["codes"] = []
        for pid in pids:
            out["codes"].append((yield from do_wait(k, pid))[1])
        out["switches"] = k.rq[0].nr_switches

    out = boot(kern, main)
    assert out["codes"] == [100, 200]
    # Each thread slept once in schedule() while the other ran.
    assert out["switches"] >= 4


def test_python_calls_guest_with_register_and_stack_arguments(demo, boot, tmp_path):
    kern, _ = demo
    fn = load(kern, tmp_path).symbols["sum5"]

    def main(k, out):
        out["sum"] = yield from call_guest(fn, 1, 20, 300, 4000, 50000)

    assert boot(kern, main)["sum"] == 54321


def test_guest_reaches_python_through_the_thunk_symbol(demo):
    kern, _ = demo
    sym = kern.symbols.by_name["schedule"]
    assert sym.kind == "python" and kern.mem.read(sym.addr, 1) == b"\xc3"
    assert kern.symbols.describe(sym.addr) == "schedule+0x0"


def test_a_sleepable_function_that_returns_at_once_runs_every_time():
    """A generator that finishes without sleeping returns inside the code hook; the
    next guest call to the same function must run it again, not skip its thunk."""
    from kthreadd_emu.scenario import booted_kernel, run_in_thread

    kern = booted_kernel(1)

    def at_once(k, out):
        out["ran"] = True
        yield from ()

    assert run_in_thread(kern, at_once)["ran"]
    assert run_in_thread(kern, at_once)["ran"]


FLAG_SOURCE = """
/* wait_for_flag: spin until another CPU sets flag; return how it found it. */
	.globl wait_for_flag
wait_for_flag:
1:	movl flag, %eax
	testl %eax, %eax
	jz 1b
	ret

/* set_flag: let the spinning CPU go. */
	.globl set_flag
set_flag:
	movl $7, flag
	ret

	.globl flag
flag:	.long 0
"""


def test_a_cpu_spinning_on_another_cpus_store_sees_it(tmp_path):
    """Time slices: the spinning CPU yields its turn, the other CPU stores the flag,
    the spinner sees it, long before the instruction budget."""
    from kernel_model.kthread import kthread_create
    from kernel_model.sched import kthread_bind, wake_up_process
    from kthreadd_emu.scenario import booted_kernel, run_in_thread

    kern = booted_kernel(2)
    path = tmp_path / "flag.S"
    path.write_text(FLAG_SOURCE)
    sym = kern.load_asm(path).symbols
    codes = {}
    kern.register_trace("do_exit", lambda task, code: codes.setdefault(task.comm, code))

    def main(k, out):
        # Both parked first: with no preemption, a spinner would keep its own CPU
        # from ever running kthreadd again.
        tasks = []
        for name, cpu in (("wait_for_flag", 0), ("set_flag", 1)):
            tasks.append(k.task((yield from kthread_create(k, sym[name], 0, name))))
            yield from kthread_bind(k, tasks[-1], cpu)
        for task in tasks:
            wake_up_process(k, task)

    run_in_thread(kern, main)
    kern.run(max_events=10_000)
    assert codes[b"wait_for_flag"] == 7
