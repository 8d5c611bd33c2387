"""The mutant list of tools/mutants.py (`make mutants`) cannot rot silently:
every mutant still finds its site, exactly once, in its file, and a Python
file reformatted (other line breaks) keeps every site."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from asm.assembler import assemble
from emu.memory import MemoryMap
from kernel_model.asm_offsets import asm_defines

ROOT = Path(__file__).resolve().parent.parent


def load_tool():
    spec = importlib.util.spec_from_file_location("mutants_tool", ROOT / "tools" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


TOOL = load_tool()


@pytest.mark.parametrize("mutant", TOOL.MUTANTS, ids=lambda m: f"{m.file}:{m.why}")
def test_each_site_is_found_exactly_once(mutant):
    TOOL.locate((ROOT / mutant.file).read_text(), mutant)  # NotFound otherwise
    assert mutant.new != mutant.old and mutant.why
    assert mutant.file.endswith(".py") == bool(mutant.function)


def mutated(mutant) -> str:
    return TOOL.mutated((ROOT / mutant.file).read_text(), mutant)


def reformatted(path: str, line_length: int) -> str:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", str(line_length),
         "--stdin-filename", path],
        input=(ROOT / path).read_text(), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_a_reformatted_file_keeps_every_site():
    """ruff format at 60 and 120 columns breaks and joins lines differently; each
    mutant still finds its one site, and the mutated text still compiles."""
    python = {m.file for m in TOOL.MUTANTS if m.file.endswith(".py")}
    for path in sorted(python):
        for width in (60, 120):
            text = reformatted(path, width)
            assert width != 60 or text != (ROOT / path).read_text()
            for mutant in (m for m in TOOL.MUTANTS if m.file == path):
                compile(TOOL.mutated(text, mutant), path, "exec")


def test_a_site_that_is_gone_or_twice_is_not_found():
    mutant = next(m for m in TOOL.MUTANTS if m.function == "kthreadd")
    text = (ROOT / mutant.file).read_text()
    start, end, _ = TOOL.locate(text, mutant)
    with pytest.raises(TOOL.NotFound):
        TOOL.locate(text[:start] + "0" + text[end:], mutant)
    twice = TOOL.Mutant(mutant.file, "kern.mem", "kern", "twice", "kthreadd")
    with pytest.raises(TOOL.NotFound, match="times in kthreadd"):
        TOOL.locate(text, twice)


def test_mutated_assembly_still_assembles():
    """A mutant that breaks the build would be killed by every test: it proves nothing."""
    m = MemoryMap()
    for mutant in (x for x in TOOL.MUTANTS if x.file.endswith(".S")):
        assemble(mutated(mutant), m.text, mutant.file, asm_defines(m))


def test_mutated_python_names_only_what_it_imports():
    for mutant in (x for x in TOOL.MUTANTS if x.file.endswith(".py")):
        # F401 ignored: a mutant that drops the one use of a name leaves an unused import.
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--select", "F", "--ignore", "F401"]
            + ["--output-format", "concise", "--stdin-filename", mutant.file],
            input=mutated(mutant),
            capture_output=True,
            text=True,
        )
        assert lint.returncode == 0, f"{mutant.why}: {lint.stdout}"


def test_at_least_30_mutants_over_the_kernel_thread_path():
    files = {m.file for m in TOOL.MUTANTS}
    assert len(TOOL.MUTANTS) >= 30 and len(set(TOOL.MUTANTS)) == len(TOOL.MUTANTS)
    assert files == {
        "asm/entry_32.S",
        "kernel_model/process_32.py",
        "kernel_model/fork.py",
        "kernel_model/kthread.py",
        "kernel_model/completion.py",
        "kernel_model/sched.py",
        "kernel_model/exit.py",
        "kernel_model/rcupdate.py",
        "kernel_model/main.py",
        "kernel_model/smpboot.py",
        "kernel_model/init_task.py",
    }


def test_apply_changes_only_the_copy(tmp_path):
    mutant = TOOL.MUTANTS[0]
    (tmp_path / "asm").mkdir()
    copy = tmp_path / mutant.file
    copy.write_text((ROOT / mutant.file).read_text())
    assert TOOL.apply(tmp_path, mutant)
    assert mutant.new in copy.read_text() and mutant.old not in copy.read_text()
    assert (ROOT / mutant.file).read_text().count(mutant.old) == 1
    assert not TOOL.apply(tmp_path, mutant)  # applied once, the site is gone


def test_a_copy_of_the_tree_imports_its_own_packages(tmp_path):
    tree = TOOL.copy_tree(tmp_path)
    assert (tree / "asm" / "entry_32.S").is_file() and not (tree / ".venv").exists()
    assert TOOL.imported_from(tree) == []
