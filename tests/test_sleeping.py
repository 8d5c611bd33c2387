"""Sleeping is explicit and checked (kernel_model/runtime.py's ``might_sleep``).

A kernel function that may sleep is a generator: called without ``yield
from`` it builds a generator and drops it, and the function silently never
runs.  These tests read kernel_model/ by its syntax tree: every generator is
marked ``@might_sleep`` (the ``for_each_*`` iterators aside), every marked
function is a generator, and every call of one stands under ``yield from`` or
hands it to ``start_root`` as a task's root frame.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "kernel_model"
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


def own_yields(func: ast.AST) -> list[ast.AST]:
    """The yields of ``func`` itself (not of the functions defined inside it)."""
    found = []
    for child in ast.iter_child_nodes(func):
        if isinstance(child, (*DEFS, ast.Lambda)):
            continue
        if isinstance(child, ast.Yield | ast.YieldFrom):
            found.append(child)
        found += own_yields(child)
    return found


def marked(func: ast.AST) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "might_sleep" for d in func.decorator_list)


def parsed() -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text(), str(p)) for p in sorted(MODEL.glob("*.py"))}


def sleeping_names(trees: dict[str, ast.Module]) -> set[str]:
    """Every name a sleeping function is called by: the marked defs, and the module
    globals that are marked functions (percpu_threads' notifiers, made by factories)."""
    names = {
        n.name for t in trees.values() for n in ast.walk(t) if isinstance(n, DEFS) and marked(n)
    }
    for filename in trees:
        module = importlib.import_module(f"kernel_model.{filename[:-3]}")
        names |= {
            name
            for name, value in vars(module).items()
            if inspect.isfunction(value) and getattr(value, "might_sleep", False)
        }
    return names


def callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def unawaited_calls(tree: ast.AST, sleeping: set[str]) -> list[ast.Call]:
    """Calls of sleeping functions that neither ``yield from`` nor ``start_root`` takes."""
    taken = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.YieldFrom) and isinstance(node.value, ast.Call):
            taken.add(id(node.value))
        if isinstance(node, ast.Call) and callee(node) == "start_root":
            taken |= {id(arg) for arg in node.args}
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and callee(n) in sleeping and id(n) not in taken
    ]


TREES = parsed()
SLEEPING = sleeping_names(TREES)


def test_the_model_has_its_sleeping_functions_marked():
    """schedule, wait_for_completion and the kthread functions are among them: the
    check below is not vacuous."""
    assert {"schedule", "wait_for_completion", "kthread_create", "kthreadd", "do_exit"} <= SLEEPING
    assert {"migration_call", "lockup_detector_init"} <= SLEEPING  # made by factories


@pytest.mark.parametrize("filename", sorted(TREES))
def test_every_generator_is_marked_and_every_marked_function_is_one(filename):
    wrong = []
    for node in ast.walk(TREES[filename]):
        if not isinstance(node, DEFS) or node.name.startswith("for_each_"):
            continue
        if bool(own_yields(node)) != marked(node):
            what = "is a generator without" if own_yields(node) else "is marked but no generator:"
            wrong.append(f"{filename}:{node.lineno}: {node.name} {what} @might_sleep")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("filename", sorted(TREES))
def test_every_call_of_a_sleeping_function_stands_under_yield_from(filename):
    wrong = [
        f"{filename}:{call.lineno}: {ast.unparse(call)} is called without yield from"
        for call in unawaited_calls(TREES[filename], SLEEPING)
    ]
    assert not wrong, "\n".join(wrong)


def test_a_forgotten_yield_from_is_found():
    """The check itself: a plain call of schedule() and of a marked method are caught,
    the call under yield from and the root frame handed to start_root are not."""
    source = (
        "def f(kern):\n"
        "    schedule(kern)\n"
        "    kern.cpu_notifiers.notifier_call_chain(kern, 1, 0)\n"
        "    yield from schedule(kern)\n"
        "    kern.runtime.start_root(task, do_exit(kern, 9), 0)\n"
    )
    found = unawaited_calls(ast.parse(source), SLEEPING)
    assert [call.lineno for call in found] == [2, 3]
