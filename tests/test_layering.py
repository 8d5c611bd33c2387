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


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (a function's own imports too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


COMMANDS = sorted((ROOT / "kthreadd_emu" / "commands").glob("*.py"))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.stem)
def test_a_command_imports_no_other_command(path):
    """What commands share (their options, the machines, a debugger session) lives
    in kthreadd_emu/options.py and the feature modules, so running one command
    imports only that command's module."""
    others = {i for i in _imports(path) if i.startswith("kthreadd_emu.commands")}
    assert others <= {"kthreadd_emu.commands"}, f"{path.name} imports {sorted(others)}"


def test_only_the_cli_imports_the_commands():
    """Inside kthreadd_emu the layers go one way: cli -> commands -> the features."""
    for path in (ROOT / "kthreadd_emu").rglob("*.py"):
        if path.name == "cli.py" or path.parent == ROOT / "kthreadd_emu" / "commands":
            continue
        assert not any(i.startswith("kthreadd_emu.commands") for i in _imports(path)), path
