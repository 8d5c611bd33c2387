"""Every example of the documentation runs as written (tests/docs/doc_examples.py
says how a page's blocks are run and compared)."""

import re

import pytest
from doc_examples import PAGES, PROMPTS, blocks, check_block, files, runnable

RUNNABLE = [b for page in PAGES for b in runnable(page)]
_COMMAND_LINE = re.compile(r"^(?:    )?(\$ kthreadd-emu|\$ gdb |\(kdb\) |\(gdb\) ).*", re.M)


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.name)
def test_example_runs_as_written(block, tmp_path, request):
    if block.kind == "python":
        run_python(block, request)
        return
    problems = check_block(block, tmp_path)
    assert not problems, (
        f"{block.name}: the output differs from what the page shows "
        "(`make docs-examples` rewrites it from a run; review the diff):\n" + "\n\n".join(problems)
    )


def run_python(block, request) -> None:
    """A ``def test_...(kernel, asm)`` block, with the suite's fixtures."""
    namespace: dict = {}
    exec(compile(block.text, block.name, "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert tests, f"{block.name}: a python block runs its test_ functions, and has none"
    for test in tests:
        test(request.getfixturevalue("kernel"), request.getfixturevalue("asm"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_session_shown_is_run(page):
    """A command line or a prompt line is shown only in a ``console`` block, the
    kind the suite runs: none is printed (in another block, or indented as code)
    as an example nobody checks."""
    text = page.read_text()
    for block in blocks(page, "console"):
        text = text.replace(block.text, "")
    unchecked = [m.group(0) for m in _COMMAND_LINE.finditer(text)]
    assert not unchecked, f"{page.name}: shown outside a console block"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_file_shown_is_used(page):
    """Each ``# file: NAME`` block is run by one of the page's sessions."""
    commands = "\n".join(b.text for b in blocks(page, "console"))
    for name in files(page):
        assert re.search(rf"^(\$ |{'|'.join(map(re.escape, PROMPTS))}).*\b{re.escape(name)}\b",
                         commands, re.M), f"{page.name}: no session runs {name}"  # fmt: skip
