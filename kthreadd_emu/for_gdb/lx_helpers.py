"""gdb helpers for the emulated 2.6.32 kernel: run inside gdb (``source`` this
file, or let gdb auto-load it from the ELF's .debug_gdb_scripts).  Not
imported by kthreadd-emu itself: it needs gdb's ``gdb`` module.

They behave as the documented helpers of Linux's scripts/gdb do, over the
DWARF types of the ELF that ``kthreadd-emu elf`` writes (this file is ours,
written from that documentation):

    lx-ps                      the tasks: init_task, then the task list
    $lx_current([CPU])         the task_struct current on CPU (default: the
                               CPU of the selected thread)
    $lx_per_cpu(VAR[, CPU])    CPU's copy of per-CPU variable VAR (the variable
                               or its name, per_cpu__ prefix optional)
    $lx_task_by_pid(PID)       the task_struct with that pid

Threads are kthreadd-emu gdbserver's: thread id = pid + 1, and CPU n's idle
task (n >= 1) is IDLE_TID_BASE + n.
"""

import gdb

IDLE_TID_BASE = 32769  # kthreadd_emu/for_gdb/target.py
MAX_TASKS = 1 << 16  # a longer task list is a corrupt one


def _ulong(value) -> int:
    return int(value.cast(gdb.lookup_type("unsigned long")))


def _task_pointer(addr: int):
    return gdb.Value(addr).cast(gdb.lookup_type("struct task_struct").pointer())


def _offset_of(struct: str, member: str) -> int:
    return int(gdb.parse_and_eval(f"(unsigned long)&(({struct} *)0)->{member}"))


def tasks():
    """init_task, then every task of init_task.tasks (for_each_process)."""
    head = int(gdb.parse_and_eval("(unsigned long)&init_task.tasks"))
    link = _offset_of("struct task_struct", "tasks")
    task = gdb.parse_and_eval("&init_task")
    for _ in range(MAX_TASKS):
        yield task.dereference()
        node = _ulong(task.dereference()["tasks"]["next"])
        if node == head:
            return
        task = _task_pointer(node - link)
    raise gdb.GdbError(f"the task list does not come back to init_task in {MAX_TASKS} entries")


def task_by_pid(pid: int):
    for task in tasks():
        if int(task["pid"]) == pid:
            return task
    raise gdb.GdbError(f"No task of PID {pid}")


def selected_cpu() -> int:
    """The CPU of the selected thread's task (its thread_info's cpu)."""
    thread = gdb.selected_thread()
    if thread is None:
        raise gdb.GdbError("No thread selected.")
    tid = thread.ptid[1] or thread.ptid[2]
    if tid > IDLE_TID_BASE:
        return tid - IDLE_TID_BASE
    task = task_by_pid(tid - 1)
    info = task["stack"].cast(gdb.lookup_type("struct thread_info").pointer())
    return int(info["cpu"])


def per_cpu_address(addr: int, cpu: int) -> int:
    """per_cpu(): the variable's template address plus __per_cpu_offset[cpu]."""
    offset = gdb.parse_and_eval(f"((unsigned long *)&__per_cpu_offset)[{cpu}]")
    return (addr + int(offset)) & 0xFFFFFFFF


def _cpu(arg) -> int:
    return selected_cpu() if arg is None else int(arg)


class LxPs(gdb.Command):
    """List the kernel's tasks: lx-ps
    Each task as its task_struct's address, pid and comm: init_task (the
    idle task of CPU 0), then every task of the task list, as for_each_process
    walks it."""

    def __init__(self):
        super().__init__("lx-ps", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        gdb.write(f"{'TASK':>10} {'PID':>5} COMM\n")
        for task in tasks():
            comm = task["comm"].string()
            gdb.write(f"{_ulong(task.address):#010x} {int(task['pid']):>5} {comm}\n")


class LxCurrent(gdb.Function):
    """Return the current task.
    $lx_current([CPU]): the task_struct that CPU's per-CPU current_task points
    to; without CPU, the CPU of the selected thread."""

    def __init__(self):
        super().__init__("lx_current")

    def invoke(self, cpu=None):
        var = gdb.parse_and_eval("&per_cpu__current_task")
        slot = per_cpu_address(_ulong(var), _cpu(cpu))
        return _task_pointer(_ulong(gdb.Value(slot).cast(var.type).dereference())).dereference()


class LxPerCpu(gdb.Function):
    """Return a per-CPU variable.
    $lx_per_cpu(VAR[, CPU]): CPU's copy of per-CPU variable VAR (the variable,
    or its name as a string, with or without the per_cpu__ prefix); without
    CPU, the CPU of the selected thread."""

    def __init__(self):
        super().__init__("lx_per_cpu")

    def invoke(self, var, cpu=None):
        if var.type.code == gdb.TYPE_CODE_ARRAY and var.type.target().sizeof == 1:
            name = var.string()
            prefixed = name if name.startswith("per_cpu__") else f"per_cpu__{name}"
            var = gdb.parse_and_eval(prefixed)
        if var.address is None:
            raise gdb.GdbError("lx_per_cpu: VAR must be a per-CPU variable or its name")
        slot = per_cpu_address(_ulong(var.address), _cpu(cpu))
        return gdb.Value(slot).cast(var.type.pointer()).dereference()


class LxTaskByPid(gdb.Function):
    """Find a task by its pid.
    $lx_task_by_pid(PID): the task_struct whose pid is PID (init_task for 0)."""

    def __init__(self):
        super().__init__("lx_task_by_pid")

    def invoke(self, pid):
        return task_by_pid(int(pid))


LxPs()
LxCurrent()
LxPerCpu()
LxTaskByPid()
