"""kthreadd-emu elf: checked with pyelftools, a well-kept ELF reader."""

import subprocess
import sys

from elftools.elf.elffile import ELFFile

from kernel_model.headers import task_struct
from kthreadd_emu.for_gdb.kernel_elf import kernel_variables
from kthreadd_emu.scenario import booted_kernel

USER_S = """
	.globl mine
mine:
	movl $7, %eax
	ret
	.globl mine_end
mine_end:
	ret
"""


def test_elf_has_the_kernel_text_and_every_symbol(tmp_path):
    src = tmp_path / "mine.S"
    src.write_text(USER_S)
    out = tmp_path / "kernel.elf"
    cmd = [sys.executable, "-m", "kthreadd_emu.cli", "elf", "--cpus", "1", "--load", str(src)]
    proc = subprocess.run([*cmd, "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    kern = booted_kernel(1)  # the same machine, built the same way
    user = kern.load_asm(src)
    with out.open("rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == "EM_386" and elf.elfclass == 32 and elf.little_endian
        text = elf.get_section_by_name(".text")
        assert text["sh_addr"] == kern.machine.map.text
        assert text.data() == kern.mem.read(kern.machine.map.text, kern.text_end - text["sh_addr"])
        syms = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols()}
        variables = {name: size for name, _, _, size in kernel_variables(kern)}
        for name, sym in kern.symbols.by_name.items():
            assert syms[name]["st_value"] == sym.addr, name
            assert syms[name]["st_size"] == variables.get(name, sym.size), name
        assert syms["init_task"]["st_size"] == task_struct.SIZE
        helper = syms["kernel_thread_helper"]
        assert helper["st_info"]["type"] == "STT_FUNC"
        assert elf.get_section(helper["st_shndx"]).name == ".text"
        do_exit = syms["do_exit"]  # a Python function, at its thunk
        assert do_exit["st_info"]["type"] == "STT_FUNC" and do_exit["st_size"] == 1
        assert elf.get_section(do_exit["st_shndx"]).name == ".thunks"
        assert syms["mine"]["st_value"] == user.symbols["mine"]
        assert syms["mine"]["st_size"] == 6
        assert syms["per_cpu__current_task"]["st_info"]["type"] == "STT_OBJECT"
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        assert {s["p_vaddr"] for s in loads} == {kern.machine.map.text, kern.machine.map.thunks}


def test_elf_refuses_a_folder(tmp_path):
    cmd = [sys.executable, "-m", "kthreadd_emu.cli", "elf", "-o", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("kthreadd-emu: elf: ") and "folder" in proc.stderr
