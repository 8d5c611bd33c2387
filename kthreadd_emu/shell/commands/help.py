"""help: gdb's, read from the command registry."""

from kthreadd_emu.shell.registry import ABBREVIATIONS, CLASSES, COMMANDS, command

FULL_DOCUMENTATION = 'Type "help" followed by command name for full documentation.'


@command("help", category="support", aliases=("h",),
         complete=lambda shell: [*COMMANDS.words(), *CLASSES, "all", *shell.s.defines])  # fmt: skip
def do_help(shell, rest):
    """Print list of commands.
    Usage: help [CLASS | COMMAND [SUBCOMMAND] | all]

    Without an argument, the classes of commands; with a class, its commands;
    with a command, its documentation and its aliases; all: every command."""
    words = rest.split()
    if not words:
        shell.say(*classes())
    elif words == ["all"]:
        shell.say(*every_command(shell))
    elif len(words) == 1 and words[0] in CLASSES:
        shell.say(*one_class(shell, words[0]))
    elif len(words) == 1 and words[0] in shell.s.defines:
        shell.say("User-defined.")
    else:
        shell.say(*documentation(words))


def classes() -> list[str]:
    lines = ["List of classes of commands:", ""]
    lines += [f"{name} -- {text}" for name, text in CLASSES.items()]
    return [*lines, "", 'Type "help" followed by a class name for a list of commands in that '
            "class.", 'Type "help all" for the list of all commands.', FULL_DOCUMENTATION,
            ABBREVIATIONS]  # fmt: skip


def listings(shell, category: str) -> list[str]:
    """One line per command of the class: gdb's ``NAMES -- SUMMARY``."""
    if category == "user-defined":
        return [f"{name} -- User-defined." for name in sorted(shell.s.defines)]
    return [cmd.listing() for cmd in COMMANDS if cmd.category == category]


def one_class(shell, category: str) -> list[str]:
    lines = [CLASSES[category], "", "List of commands:", "", *listings(shell, category)]
    if category == "running":
        lines += ["", "An empty line repeats the last of these, when typed."]
    return [*lines, "", FULL_DOCUMENTATION, ABBREVIATIONS]


def every_command(shell) -> list[str]:
    lines = []
    for category in CLASSES:
        lines += ["", f"Command class: {category}", "", *listings(shell, category)]
    return lines[1:]


def documentation(words: list[str]) -> list[str]:
    """``help CMD [SUB...]``: the command's own help (gdb's errors for unknown words)."""
    cmd = COMMANDS.resolve(words[0])
    for word in words[1:]:
        if cmd.subcommands is None:
            break
        cmd = cmd.subcommands.resolve(word)
    return cmd.help()
