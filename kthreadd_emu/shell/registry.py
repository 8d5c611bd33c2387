"""The debugger's commands, as the shell looks them up: each one registered by
the ``@command`` decorator of its own file in kthreadd_emu/shell/commands/
(pwndbg's pattern), with its name, aliases, gdb's help class, whether it
resumes the machine (and through which method of the engine), and its help
from its docstring (cmd/pdb's pattern: the first line is the summary).

``help``, ``help CMD``, Tab completion and the docs' command reference are all
read from here, so none of them can drift from the commands."""

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from debugger.registers import GDB_ORDER
from kthreadd_emu.shell.errors import CommandError

# gdb's classes of commands (`help` lists them), and what each holds.
CLASSES = {
    "running": "Running the machine.",
    "breakpoints": "Making the machine stop at certain points.",
    "stack": "Examining the stack.",
    "data": "Examining data.",
    "status": "Status inquiries.",
    "kernel": "The kernel's tasks, CPUs and events.",
    "files": "Specifying and examining files.",
    "support": "Support facilities.",
    "user-defined": "User-defined commands.",
}


@dataclass(frozen=True)
class Command:
    """One command: ``run(shell, rest)`` does it, ``rest`` being what follows its
    name.  A resuming command's ``run`` returns the arguments of the engine
    method ``resumes`` names, and the shell calls that method (the one place the
    shell resumes the engine)."""

    name: str
    run: Callable
    category: str
    aliases: tuple[str, ...] = ()
    resumes: str | None = None
    by_line: bool = False  # a source-line step: the line reached is shown, as gdb does
    subcommands: "Registry | None" = None
    complete: Callable | None = None  # (shell, words typed after the name) -> candidates
    prefix: str = ""  # "info " for info's subcommands

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.run.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.partition("\n")[0]

    @property
    def names(self) -> str:
        """``backtrace, bt, where``: the name, then the aliases, as gdb's help shows them."""
        return ", ".join(self.prefix + n for n in (self.name, *self.aliases))

    def listing(self) -> str:
        """The command's line in a list of commands (gdb's ``NAMES -- SUMMARY``)."""
        return f"{self.names} -- {self.summary}"

    def help(self) -> list[str]:
        """``help CMD``: the names (when there are aliases), the docstring, and a
        prefix command's subcommands."""
        lines = [self.names] if self.aliases else []
        lines += self.doc.splitlines()
        if self.subcommands is not None:
            word = self.prefix + self.name
            lines += ["", f"List of {word} subcommands:", ""]
            lines += [sub.listing() for sub in self.subcommands]
            lines += ["", f'Type "help {word}" followed by {word} subcommand name for full '
                      "documentation.", ABBREVIATIONS]  # fmt: skip
        return lines


ABBREVIATIONS = "Command name abbreviations are allowed if unambiguous."


class Registry:
    """Commands by name and alias.  ``prefix`` is the command they are the
    subcommands of (``"info"``), or empty for the shell's own; ``package``, the
    package whose every module is imported (and so registers its commands) the
    first time the registry is read."""

    def __init__(self, prefix: str = "", package: str | None = None):
        self.prefix, self._package = prefix, package
        self._by_name: dict[str, Command] = {}
        self._by_alias: dict[str, Command] = {}

    def command(self, name: str, *, category: str = "", aliases=(), resumes=None,
                by_line=False, subcommands=None, complete=None):  # fmt: skip
        """The decorator: ``@command("break", category="breakpoints", aliases=("b",))``."""

        def register(run: Callable) -> Callable:
            self.add(Command(name, run, category, tuple(aliases), resumes, by_line, subcommands,
                             complete, f"{self.prefix} " if self.prefix else ""))  # fmt: skip
            return run

        return register

    def add(self, cmd: Command) -> None:
        for word in (cmd.name, *cmd.aliases):
            if word in self._by_name or word in self._by_alias:
                raise ValueError(f"{self.prefix} {word}".strip() + " is registered twice")
        if not self.prefix and cmd.category not in CLASSES:
            raise ValueError(f"{cmd.name}: no class {cmd.category!r} (one of {', '.join(CLASSES)})")
        self._by_name[cmd.name] = cmd
        self._by_alias.update(dict.fromkeys(cmd.aliases, cmd))

    def _loaded(self) -> "Registry":
        if self._package is not None:
            package = importlib.import_module(self._package)
            for module in pkgutil.iter_modules(package.__path__):
                importlib.import_module(f"{package.__name__}.{module.name}")
            self._package = None
        return self

    def __iter__(self) -> Iterator[Command]:
        commands = self._loaded()._by_name
        return iter([commands[name] for name in sorted(commands)])

    def words(self) -> list[str]:
        """Every name and alias (what Tab completes)."""
        self._loaded()
        return sorted([*self._by_name, *self._by_alias])

    def resuming_methods(self) -> set[str]:
        """The engine's methods that resume the machine (the gdb stub's monitor
        refuses them: run control is gdb's own there)."""
        return {cmd.resumes for cmd in self if cmd.resumes}

    def resolve(self, word: str, strict: bool = False) -> Command | None:
        """gdb's lookup: a name or an alias, else a unique prefix of the names, else
        of the aliases (``wh``: where, so backtrace).  ``strict``: only a name or an
        alias, else None.  An unknown or ambiguous word is gdb's error."""
        self._loaded()
        exact = self._by_name.get(word) or self._by_alias.get(word)
        if exact is not None or strict:
            return exact
        for table in (self._by_name, self._by_alias):
            matches = sorted(w for w in table if word and w.startswith(word))
            if len({table[w].name for w in matches}) == 1:
                return table[matches[0]]
            if matches:
                raise CommandError(f'Ambiguous {self._what()} "{word}": {", ".join(matches)}.')
        helped = f"help {self.prefix}".strip()
        raise CommandError(f'Undefined {self._what()}: "{word}".  Try "{helped}".')

    def _what(self) -> str:
        return f"{self.prefix} command" if self.prefix else "command"


COMMANDS = Registry(package="kthreadd_emu.shell.commands")
command = COMMANDS.command

_COMMAND_WORD = re.compile(r"([^\s/]*)(.*)", re.S)


def split_command(text: str) -> tuple[str, str]:
    """``x/4xw $esp`` -> (``x``, ``/4xw $esp``); ``p/x 1`` -> (``p``, ``/x 1``)."""
    word, rest = _COMMAND_WORD.match(text.strip()).groups()
    return word, rest if rest.startswith("/") else rest.strip()


def by_class() -> list[tuple[str, str, list[Command]]]:
    """Every command by gdb's class: (class, what it holds, its commands in name
    order), as ``help all`` lists them.  The docs' reference of the debugger's
    commands is made from this and each command's ``help()``, so it cannot drift
    from the shell."""
    commands = list(COMMANDS)
    return [(name, text, [c for c in commands if c.category == name])
            for name, text in CLASSES.items() if name != "user-defined"]  # fmt: skip


def completions(shell, line: str) -> list[str]:
    """The words Tab offers for the word being typed at the end of ``line`` (the
    text before the cursor): a command's name, then what the command takes."""
    words = line.split()
    partial = "" if not line or line[-1].isspace() else words.pop()
    if not words:
        candidates = [*COMMANDS.words(), *shell.s.defines]
    elif words[0] in shell.s.defines:
        candidates = expression_words(shell)
    else:
        candidates = arguments(shell, COMMANDS, words)
    return sorted({word for word in candidates if word.startswith(partial)})


def arguments(shell, registry: Registry, words: list[str]) -> list[str]:
    """What may follow ``words`` (a command of ``registry`` and what was typed after it)."""
    try:
        cmd = registry.resolve(split_command(words[0])[0])
    except CommandError:
        return []
    if cmd.subcommands is not None and len(words) > 1:
        return arguments(shell, cmd.subcommands, words[1:])
    if cmd.complete is not None:
        return cmd.complete(shell)
    if cmd.subcommands is not None:
        return cmd.subcommands.words()
    return expression_words(shell)


def expression_words(shell) -> list[str]:
    """What an expression may name: the registers, the kernel's symbols."""
    return [*(f"${r}" for r in GDB_ORDER), *shell.kern.symbols.by_name]
