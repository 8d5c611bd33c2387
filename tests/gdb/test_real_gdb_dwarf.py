"""What the real gdb (-batch) sees in the ELF's DWARF and does with our gdb
helpers: the kernel's struct types at the views' layout, typed variables,
lx-ps, $lx_current(), $lx_per_cpu() and $lx_task_by_pid() (skipped, with the
reason, where gdb is not installed)."""

import re
import subprocess
import sys

import pytest
from gdbrun import Server, gdb_batch, needs_gdb

from debugger.ps import snapshot
from emu import ctype as c
from kernel_model.headers import task_struct
from kernel_model.percpu import per_cpu
from kthreadd_emu.for_gdb.kernel_elf import kernel_views
from kthreadd_emu.scenario import booted_kernel

pytestmark = needs_gdb

LAYOUT = (
    "for name in {names!r}:\n"
    "    t = gdb.lookup_type(name).strip_typedefs()\n"
    "    print('S', name, t.sizeof)\n"
    "    for f in t.fields():\n"
    "        print('F', name, f.name, f.bitpos // 8, f.type.sizeof, str(f.type))\n"
)


@pytest.fixture(scope="module")
def elf(tmp_path_factory):
    out = tmp_path_factory.mktemp("elf") / "k.elf"
    cmd = [sys.executable, "-m", "kthreadd_emu.cli", "elf", "--cpus", "3", "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return out


def test_ptype_gives_every_struct_the_layout_the_model_uses(elf):
    views = kernel_views()
    names = {view: c.spell(view.C_TYPE) for view in views}
    script = LAYOUT.format(names=list(names.values()))
    out = gdb_batch(elf, f"python exec({script!r})")
    sizes = dict(re.findall(r"^S ((?:struct )?\w+) (\d+)$", out, re.M))
    fields = re.findall(r"^F ((?:struct )?\w+) (\w+) (\d+) (\d+) (.+)$", out, re.M)
    for view in views:
        assert int(sizes[names[view]]) == view.SIZE, view
        shown = [(n, int(o), int(s), t) for v, n, o, s, t in fields if v == names[view]]
        assert shown == [(f.name, f.offset, f.size, c.spell(f.c_type)) for f in view.FIELDS]


def test_ptype_pt_regs_lists_bx_to_ss_and_the_sizes_are_the_kernels(elf):
    out = gdb_batch(elf, "ptype struct pt_regs", "p sizeof(struct pt_regs)",
                    "p/x sizeof(struct thread_info)", "ptype struct list_head")  # fmt: skip
    members = re.findall(r"^\s+unsigned long (\w+);$", out.split("$1")[0], re.M)
    assert members == ["bx", "cx", "dx", "si", "di", "bp", "ax", "ds", "es", "fs", "gs",
                       "orig_ax", "ip", "cs", "flags", "sp", "ss"]  # fmt: skip
    assert "$1 = 68" in out and "$2 = 0x48" in out
    assert "type = struct list_head {" in out


def test_variables_have_their_types_and_symbols_their_sizes(elf):
    comm = task_struct.OFFSETS["comm"]
    out = gdb_batch(elf, "info symbol &init_task.comm", "ptype init_task",
                    "p sizeof(init_task)", "whatis per_cpu__cpu_number")  # fmt: skip
    assert f"init_task + {comm} in section .data" in out
    assert "type = struct task_struct {" in out
    assert f"$1 = {task_struct.SIZE}" in out
    assert "No symbol" not in out and "no debug info" not in out


def test_init_task_and_kthreadd_task_after_boot(booted):
    threads = booted.gdb("info threads")
    kthreadd = re.search(r"^\s+(\d+)\s+Thread \d+ \(kthreadd pid 2 ", threads, re.M)[1]
    out = booted.gdb(
        "p init_task.comm", "p kthreadd_task->comm", f"thread {kthreadd}",
        "p kthreadd_task->thread.sp == $esp", "p kthreadd_task->real_parent->pid",
        "p *(struct pt_regs *)((unsigned long)init_task.stack + 0x2000 - 8 - 68)",
        "p init_task.usage", "ptype kthreadd_task->cpus_allowed",
    )  # fmt: skip
    assert '$1 = "swapper\\000' in out
    assert '$2 = "kthreadd\\000' in out
    assert "$3 = 1" in out and "$4 = 0" in out
    assert re.search(r"\$5 = \{bx = \d+, cx = \d+, .* ss = \d+\}", out)
    assert "$6 = {counter = " in out
    assert "type = struct cpumask {\n    unsigned long bits[8];\n}" in out


def test_a_task_pointer_in_a_register(tmp_path):
    srv = Server(tmp_path / "kernel.elf", "--cpus", "2")
    try:
        out = srv.gdb(
            "break __switch_to", "continue", "p ((struct task_struct *)$eax)->comm",
            "p ((struct task_struct *)$edx)->thread.sp == $esp + 4",
            "p ((struct task_struct *)$eax)->thread.sp",
            "p/x *(unsigned long *)((struct task_struct *)$eax)->thread.sp",
            "p/x $ebp",
        )  # fmt: skip
    finally:
        srv.stop()
    assert '$1 = "swapper\\000' in out  # init_task switches away first
    assert "$2 = 1" in out
    # switch_to saved ebp last, at prev->thread.sp: what ebp still holds.
    saved = re.search(r"^\$4 = (0x[0-9a-f]+)$", out, re.M)[1]
    assert saved == re.search(r"^\$5 = (0x[0-9a-f]+)$", out, re.M)[1]


def test_lx_ps_lists_the_tasks_of_kthreadd_emu_ps(booted):
    out = booted.gdb("lx-ps", autoload=True)
    rows = re.findall(r"^0x([0-9a-f]{8})\s+(\d+) (\S+)$", out, re.M)
    kern = booted_kernel(3)
    expected = [(p.pid, p.comm) for p in snapshot(kern)]
    assert rows[0][1:] == ("0", "swapper")  # init_task first, as Linux's lx-ps
    assert sorted((int(pid), comm) for _, pid, comm in rows[1:]) == sorted(expected)
    for addr, pid, _ in rows[1:]:
        assert task_struct(kern.mem, int(addr, 16)).pid == int(pid)


def test_lx_per_cpu_and_lx_task_by_pid(booted):
    kern = booted_kernel(3)
    out = booted.gdb(
        'p $lx_per_cpu("cpu_number", 2)', "p $lx_per_cpu(per_cpu__cpu_number, 1)",
        "p/x $lx_per_cpu(per_cpu__current_task, 1)", "p $lx_task_by_pid(2).comm",
        "p $lx_task_by_pid(2).pid", "p $lx_current(2).comm", "p $lx_task_by_pid(4242)",
        autoload=True,
    )  # fmt: skip
    assert "$1 = 2" in out and "$2 = 1" in out
    assert f"$3 = {per_cpu(kern, 1).current_task:#x}" in out
    assert '$4 = "kthreadd\\000' in out and "$5 = 2" in out
    assert '$6 = "swapper\\000' in out
    assert "No task of PID 4242" in out


def test_the_helpers_beside_the_elf_are_sourced_where_auto_load_is_declined(booted):
    script = booted.elf.with_name("kernel-gdb.py")
    assert script.is_file()
    without = booted.gdb("lx-ps")
    assert 'Undefined command: "lx-ps"' in without
    out = booted.gdb(f"source {script}", "lx-ps", "p $lx_current(0).pid")
    assert re.search(r"^0x[0-9a-f]{8}\s+2 kthreadd$", out, re.M)
    assert "$1 = 0" in out


def test_lx_current_at_kernel_thread_helper_is_the_new_thread(tmp_path):
    tid = "python print('tid', gdb.selected_thread().ptid[1])"
    srv = Server(tmp_path / "kernel.elf", "--cpus", "2")
    try:
        out = srv.gdb(
            "break kernel_thread_helper", "continue", tid, "p $lx_current()->pid",
            "p $lx_current()->comm", "continue", "continue", tid, "p $lx_current()->pid",
            autoload=True,
        )  # fmt: skip
    finally:
        srv.stop()
    assert out.count("hit Breakpoint 1, ") == 3
    tids = [int(t) for t in re.findall(r"^tid (\d+)$", out, re.M)]
    pids = [int(p) for p in re.findall(r"^\$(?:1|3) = (\d+)$", out, re.M)]
    # The thread stopped there is the task just born (thread id = pid + 1): pid 1
    # first (kernel_init), then kthreadd's first child.
    assert pids == [tid - 1 for tid in tids] and pids[0] == 1 and pids[1] > 2
    assert '$2 = "swapper\\000' in out  # its comm until kernel_init sets it
