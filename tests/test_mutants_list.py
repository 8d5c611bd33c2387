"""The mutant list of tools/mutants.py (`make mutants`) cannot rot silently:
every mutant still finds its text, exactly once, in its file."""

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
def test_old_text_occurs_exactly_once(mutant):
    text = (ROOT / mutant.file).read_text()
    assert text.count(mutant.old) == 1, f"{mutant.old!r} in {mutant.file}"
    assert mutant.new != mutant.old and mutant.why


def mutated(mutant) -> str:
    return (ROOT / mutant.file).read_text().replace(mutant.old, mutant.new)


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
    }


def test_apply_changes_only_the_copy(tmp_path):
    mutant = TOOL.MUTANTS[0]
    (tmp_path / "asm").mkdir()
    copy = tmp_path / mutant.file
    copy.write_text((ROOT / mutant.file).read_text())
    assert TOOL.apply(tmp_path, mutant)
    assert mutant.new in copy.read_text() and mutant.old not in copy.read_text()
    assert (ROOT / mutant.file).read_text().count(mutant.old) == 1
    assert not TOOL.apply(tmp_path, mutant)  # applied once, the text is gone


def test_a_copy_of_the_tree_imports_its_own_packages(tmp_path):
    tree = TOOL.copy_tree(tmp_path)
    assert (tree / "asm" / "entry_32.S").is_file() and not (tree / ".venv").exists()
    assert TOOL.imported_from(tree) == []
