"""The documentation site: it builds with warnings as errors, its reference parts
cover every command, the architecture page names every module, the README's
table is the commands' own, every path the docs and the code name exists, and
`make bench` writes its figures into the performance page."""

import os
import re
import subprocess
import sys
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kthreadd_emu.benchmarks import PAGE_BEGIN, PAGE_END, page_parts, write_page
from kthreadd_emu.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("asm", "emu", "kernel_model", "debugger", "gdbstub", "kthreadd_emu")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """``mkdocs build --strict`` into a folder of its own: the built site."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
        capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr  # --strict: any warning fails it
    return out


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name == "id")


def ids(page: Path) -> set[str]:
    parser = _Ids()
    parser.feed(page.read_text())
    return parser.ids


def test_every_command_has_its_entry_with_its_help(site):
    page = site / "commands" / "index.html"
    text = page.read_text()
    assert set(COMMANDS) <= ids(page)
    for name in COMMANDS:
        assert f"usage: kthreadd-emu {name} " in text, f"no --help of {name}"


def test_every_debugger_command_has_its_entry_with_its_help(site):
    """Each command of the shell's registry, and each subcommand (``info
    registers``), has its heading in the debugger page, over its ``help``."""
    from kthreadd_emu.shell.registry import COMMANDS

    page = site / "debugger" / "index.html"
    text = page.read_text()
    commands = [c for cmd in COMMANDS for c in (cmd, *(cmd.subcommands or ()))]
    assert len(commands) > 40
    expected = {"kdb-" + (c.prefix + c.name).replace(" ", "-") for c in commands}
    assert expected <= ids(page)
    for cmd in commands:
        assert escape(cmd.summary, quote=False) in text, f"no help of {cmd.prefix}{cmd.name}"


def test_a_command_no_page_shows_fails_the_build(tmp_path):
    """The hook's check, on a copy of the docs with one command's entry gone."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for path in (ROOT / "docs").iterdir():
        text = path.read_text().replace("<!-- help: kthreadd-emu stress -->", "")
        (docs / path.name).write_text(text)
    config = (ROOT / "mkdocs.yml").read_text().replace("- docs/hooks.py", f"- {docs}/hooks.py")
    (tmp_path / "mkdocs.yml").write_text(config.replace("docs_dir: docs", f"docs_dir: {docs}"))
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "out")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode != 0
    assert "kthreadd-emu stress: no page shows its --help" in proc.stdout + proc.stderr


def modules() -> list[str]:
    """Every module and subpackage of the packages, as a path from the top."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if "__pycache__" in rel:
                continue
            if path.is_dir():
                found.append(rel + "/")
            elif path.suffix in (".py", ".S") and path.name != "__init__.py":
                found.append(rel)
    return found


def test_the_architecture_page_names_every_module():
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = [m for m in modules() if f"`{m}`" not in page]
    assert not missing, f"docs/architecture.md names no {missing}"


def test_the_readme_table_is_the_commands_own_help():
    """One line per command, each the line `kthreadd-emu --help` gives it."""
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", readme, re.M))
    (sub,) = (a for a in build_parser([])._actions if hasattr(a, "_choices_actions"))
    assert rows == {a.dest: a.help for a in sub._choices_actions}


# A path into the tree, as the docs and the code name files: `kernel_model/kthread.py`.
_TOP = r"(?:asm|emu|kernel_model|debugger|gdbstub|kthreadd_emu|tests|tools|docs)"
_PATH = re.compile(
    rf"(?<![\w./-])({_TOP}/(?:[\w.-]+/)*(?:[\w-]+\.(?:py|S|md|txt|json|toml|yml)\b)?)"
)
# What a clone does not have: the project's notes beside it (the brackets keep
# this line from naming them).
_OUTSIDE = re.compile(r"\.\./share[d]|emulator[-]notes|/wor[k]/")
_SKIP = {".git", ".venv", "site", "build", "node_modules"}


def named_files() -> list[Path]:
    """The tree's sources and docs (not what a build or a venv put beside them)."""
    return [
        path
        for path in sorted(ROOT.rglob("*"))
        if not _SKIP & set(path.relative_to(ROOT).parts)
        and not any(
            part.startswith(".") or part.endswith(".egg-info")
            for part in path.relative_to(ROOT).parts
        )
        and (path.suffix in (".py", ".S", ".md", ".toml", ".yml") or path.name == "Makefile")
    ]


def test_every_path_named_exists_and_none_outside_the_tree():
    """A clone holds what the docs and the code point to: no file that moved, and
    nothing outside the repository."""
    files = named_files()
    problems = []
    for path in files:
        text = path.read_text(errors="replace")
        for match in _PATH.finditer(text):
            named = match.group(1)
            if not (ROOT / named).exists():
                problems.append(f"{path.relative_to(ROOT)}: {named}")
        problems += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in _OUTSIDE.finditer(text)]
    assert not problems


def test_bench_refuses_a_page_without_markers_before_it_runs(cli, tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# no markers\n")
    status, out, err = cli("bench", "--page", page)
    assert status == 1 and out == ""
    assert (
        err
        == f"kthreadd-emu: bench: --page {page}: no {PAGE_BEGIN} ... {PAGE_END} lines to write in\n"
    )


def test_bench_writes_its_figures_between_the_markers(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text(f"# Speed\n\nbefore\n{PAGE_BEGIN}\nold figures\n{PAGE_END}\nafter\n")
    write_page(str(page), page_parts(str(page)), {"unicorn_round_trips_per_s": 301234.5,
                                                   "debug_reverse_stepi_s": 0.0123})  # fmt: skip
    text = page.read_text()
    assert "old figures" not in text and text.startswith("# Speed\n\nbefore\n")
    assert text.endswith(f"{PAGE_END}\nafter\n")
    assert "| `unicorn_round_trips_per_s` | 301,234 |" in text
    assert "| `debug_reverse_stepi_s` | 0.0123 |" in text
    assert "Run on " in text and " CPUs (load average " in text
