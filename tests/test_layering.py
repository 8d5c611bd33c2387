"""Imports flow one way: asm <- emu <- kernel_model <- debugger <- gdbstub <- kthreadd_emu.

gdbstub's protocol modules import nothing of the project: only its kernel target
reaches down to the debugger and the kernel."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["asm", "emu", "kernel_model", "debugger", "gdbstub", "kthreadd_emu"]
GDBSTUB_PROTOCOL = ("packet", "tdesc", "target", "handlers", "server", "elf")


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(ORDER)


@pytest.mark.parametrize("package", ORDER)
def test_no_upward_imports(package):
    allowed = set(ORDER[: ORDER.index(package) + 1])
    for path in (ROOT / package).rglob("*.py"):
        assert imported_packages(path) <= allowed, f"{path.relative_to(ROOT)} imports upward"


@pytest.mark.parametrize("module", GDBSTUB_PROTOCOL)
def test_gdbstub_protocol_imports_nothing_of_the_project(module):
    assert imported_packages(ROOT / "gdbstub" / f"{module}.py") <= {"gdbstub"}
