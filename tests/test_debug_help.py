"""The debugger's commands as a user finds them: `help` lists gdb's classes,
`help CLASS` its commands, `help CMD` the command's own documentation with its
aliases; an unknown name is gdb's `Undefined command: "NAME".  Try "help".`;
abbreviations resolve as gdb's do; Tab completes from the same registry; and a
new command is one new file in kthreadd_emu/shell/commands/."""

import subprocess
import sys
from pathlib import Path

import pytest

from kthreadd_emu.shell.errors import CommandError
from kthreadd_emu.shell.registry import CLASSES, COMMANDS, Registry, by_class, completions
from kthreadd_emu.shell.shell import Shell

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kthreadd_emu" / "shell" / "commands"


def every_command():
    """Each command, and each subcommand of a prefix command (info, set)."""
    for cmd in COMMANDS:
        yield cmd
        yield from cmd.subcommands or ()


@pytest.mark.parametrize("cmd", list(every_command()), ids=lambda c: c.prefix + c.name)
def test_every_command_has_help(cmd):
    """A summary line for the lists (gdb's: a sentence), a usage line, and a
    listing that fits a terminal."""
    assert cmd.summary.endswith("."), cmd.summary
    assert any(line.lstrip().startswith("Usage: ") for line in cmd.doc.splitlines()), cmd.doc
    assert len(cmd.listing()) <= 80, cmd.listing()


def test_help_cmd_is_each_commands_own_doc_with_its_aliases(batch):
    """`help NAME` is the command's docstring (no longer one page whatever the
    argument); `help ALIAS` and `help PREFIX` are the same page, and the page
    names the aliases first, as gdb's does (`backtrace, bt, where`)."""
    commands = list(COMMANDS)
    asked = []
    for cmd in commands:
        asked += [cmd.name, *cmd.aliases, cmd.name[:-1] if len(cmd.name) > 6 else cmd.name]
    status, out, err = batch(*(f"help {word}" for word in asked))
    assert status == 0, err
    expected = []
    for cmd in commands:
        expected += cmd.help() * (len(cmd.aliases) + 2)
    assert out.splitlines()[1:] == expected  # after the "stopped before boot" line
    backtrace = COMMANDS.resolve("bt").help()
    assert backtrace[:2] == ["backtrace, bt, where", "Print the selected task's stack frames, "
                             "innermost first."]  # fmt: skip


def test_help_of_a_subcommand_and_of_a_prefix_command(batch):
    status, out, err = batch("help info", "help info r", "help set disassembly-flavor")
    assert status == 0, err
    lines = out.splitlines()
    assert "List of info subcommands:" in lines
    assert "info registers, info r -- The integer registers of the selected task." in lines
    assert lines.count("info registers, info r") == 1  # the page of `help info r`
    assert "Usage: set disassembly-flavor att|intel" in lines


@pytest.mark.parametrize(
    "line, message",
    [
        ("frobnicate", 'Undefined command: "frobnicate".  Try "help".'),
        ("help frobnicate", 'Undefined command: "frobnicate".  Try "help".'),
        ("info frobnicate", 'Undefined info command: "frobnicate".  Try "help info".'),
        ("help info frobnicate", 'Undefined info command: "frobnicate".  Try "help info".'),
        ("set frobnicate 1", 'Undefined set command: "frobnicate".  Try "help set".'),
        (
            "re",
            'Ambiguous command "re": record, reverse-continue, reverse-finish, '
            "reverse-nexti, reverse-stepi.",
        ),  # fmt: skip
        ("info s", 'Ambiguous info command "s": segments, symbol.'),
    ],
)
def test_an_unknown_command_says_try_help(batch, line, message):
    status, out, err = batch(line, "echo still here\\n")
    assert status == 1
    assert err.splitlines() == [message]
    assert "still here" in out


def test_help_lists_the_classes_and_each_class_its_commands(batch):
    status, out, err = batch("help", "help breakpoints", "help all")
    assert status == 0, err
    lines = out.splitlines()
    assert "List of classes of commands:" in lines
    assert all(f"{name} -- {text}" in lines for name, text in CLASSES.items())
    assert "break, b, br -- Set breakpoint at specified location." in lines
    assert "Making the machine stop at certain points." in lines
    listed = [line for line in lines if " -- " in line and not line.startswith(tuple(CLASSES))]
    # `help breakpoints`, then `help all`: every command once, in its class.
    breakpoints = [c for c in COMMANDS if c.category == "breakpoints"]
    assert listed == [c.listing() for c in breakpoints] + [
        c.listing() for _, _, commands in by_class() for c in commands
    ]


def test_by_class_holds_every_command_once():
    """What the docs' reference of the debugger's commands is made from."""
    listed = [c.name for _, _, commands in by_class() for c in commands]
    assert sorted(listed) == sorted(c.name for c in COMMANDS)
    assert len(listed) == len(set(listed))


def test_user_commands_have_their_class_and_help(batch):
    status, out, err = batch("define twice", "p $arg0 * 2", "end", "help twice",
                             "help user-defined")  # fmt: skip
    assert status == 0, err
    assert "User-defined." in out.splitlines()
    assert "twice -- User-defined." in out.splitlines()


@pytest.mark.parametrize(
    "word, name",
    [
        ("b", "break"), ("br", "break"), ("brea", "break"), ("tb", "tbreak"),
        ("c", "continue"), ("cont", "continue"), ("conti", "continue"), ("r", "run"),
        ("s", "step"), ("n", "next"), ("si", "stepi"), ("ni", "nexti"), ("fin", "finish"),
        ("u", "until"), ("bt", "backtrace"), ("where", "backtrace"), ("wh", "backtrace"),
        ("p", "print"), ("inspect", "print"), ("ins", "print"), ("i", "info"), ("in", "info"),
        ("disas", "disassemble"), ("d", "delete"), ("q", "quit"), ("l", "list"),
        ("thread", "task"), ("th", "task"), ("rsi", "reverse-stepi"), ("rni", "reverse-nexti"),
        ("rc", "reverse-continue"), ("reverse-f", "reverse-finish"), ("h", "help"),
    ],
)  # fmt: skip
def test_aliases_and_abbreviations_resolve_as_gdbs(word, name):
    """An alias, else a unique prefix of the names, else of the aliases (gdb's
    `wh` is where, so backtrace)."""
    assert COMMANDS.resolve(word).name == name


@pytest.mark.parametrize("word", ["t", "di", "st", "re"])
def test_an_ambiguous_abbreviation_is_refused(word):
    with pytest.raises(CommandError, match=f'Ambiguous command "{word}": '):
        COMMANDS.resolve(word)


def test_abbreviations_run_the_command(batch):
    status, out, err = batch("th", "wh", "i r eip")
    assert status == 0, err
    assert "[Current task is 0 (swapper)]" in out and "#0  " in out and "eip " in out


@pytest.fixture
def shell(demo):
    return Shell(demo[0])


@pytest.mark.parametrize(
    "line, words",
    [
        ("inf", ["info"]),
        ("reverse-n", ["reverse-nexti"]),
        ("info reg", ["registers"]),
        ("i r es", ["es", "esi", "esp"]),
        ("set disassembly-flavor ", ["att", "intel"]),
        ("set $es", ["$es", "$esi", "$esp"]),
        ("set var kthreadd_t", ["kthreadd_task"]),
        ("help ru", ["run", "running"]),
        ("x/4xw $es", ["$es", "$esi", "$esp"]),
        ("p kernel_thread_h", ["kernel_thread_helper"]),
        ("ptregs 2 j", ["json"]),
        ("frobnicate ", []),
    ],
)
def test_tab_completes_from_the_registry(shell, line, words):
    assert completions(shell, line) == words


def test_tab_completes_user_commands(shell):
    shell.s.defines["twice"] = ["p $arg0 * 2"]
    assert completions(shell, "tw") == ["twice"]
    assert "help" in completions(shell, "")


def test_a_name_is_registered_once():
    registry = Registry("info")
    registry.command("registers", aliases=("r",))(lambda shell, args: None)
    with pytest.raises(ValueError, match="info r is registered twice"):
        registry.command("r")(lambda shell, args: None)


def test_every_module_of_the_package_registers_its_commands():
    """The registry imports the package's modules itself (no list to keep): each
    one holds a command, and every command comes from one of them."""
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    homes = {cmd.run.__module__.rpartition(".")[2] for cmd in COMMANDS}
    assert homes == modules


NEW_COMMAND = '''
from kthreadd_emu.shell.registry import command


@command("hello", category="support", aliases=("hi",))
def do_hello(shell, rest):
    """Say hello to REST.
    Usage: hello NAME"""
    shell.say(f"hello, {rest}")
'''
PLANT = """
import sys
import kthreadd_emu.shell.commands as package
package.__path__.append(sys.argv[1])
from kthreadd_emu.cli import main
sys.exit(main(["debug", "--batch", "-x", sys.argv[2]]))
"""


def test_adding_a_command_is_one_new_file(tmp_path):
    """A file in the package's folder (here a second folder of the package, as the
    source tree is not the test's to write) is a command: it runs, `help` lists
    it, its alias resolves."""
    (tmp_path / "hello.py").write_text(NEW_COMMAND)
    script = tmp_path / "cmds.gdb"
    script.write_text("hello world\nhi there\nhelp hello\nhelp support\n")
    proc = subprocess.run([sys.executable, "-c", PLANT, str(tmp_path), str(script)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1:5] == ["hello, world", "hello, there", "hello, hi", "Say hello to REST."]
    assert "hello, hi -- Say hello to REST." in lines
