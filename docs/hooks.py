"""mkdocs hooks: the reference parts of the pages are made from the code itself,
so that they cannot drift from it.

* ``<!-- help: kthreadd-emu -->`` becomes ``kthreadd-emu --help``, and
  ``<!-- help: kthreadd-emu COMMAND -->`` ``kthreadd-emu COMMAND --help``, each
  from the argparse parser the command line uses;
* ``<!-- debugger commands -->`` becomes every command of the debugger's shell,
  by gdb's classes, each with its ``help`` (kthreadd_emu/shell/registry.py),
  and an entry of its own for each subcommand (``info registers``).

A marker naming no command, a command no page shows, or a debugger reference no
page has is a warning: an error under ``mkdocs build --strict`` (``make test``
builds the site so)."""

import argparse
import logging
import re

log = logging.getLogger("mkdocs.hooks.reference")
_HELP = re.compile(r"^<!-- help: kthreadd-emu( \S+)? -->$", re.M)
_DEBUGGER = "<!-- debugger commands -->"
WIDTH = 88  # the width --help is wrapped at in the pages
shown: set[str] = set()


def parsers() -> dict[str, argparse.ArgumentParser]:
    """The top-level parser ("") and each command's, every command's module imported."""
    from kthreadd_emu.cli import build_parser

    top = build_parser([])
    (sub,) = (a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return {"": top, **sub.choices}


def help_text(parser: argparse.ArgumentParser) -> str:
    """``--help`` as a terminal WIDTH columns wide prints it (a parser that fixes
    its own width, as the top-level one does, keeps it)."""
    cls = parser.formatter_class
    if isinstance(cls, type):
        parser.formatter_class = lambda prog: cls(prog, width=WIDTH)
    try:
        return parser.format_help().rstrip()
    finally:
        parser.formatter_class = cls


def on_pre_build(config) -> None:
    shown.clear()


def debugger_reference() -> str:
    """The debugger's commands by class, each a heading (``#kdb-NAME``, a
    subcommand ``#kdb-info-registers``) over its ``help NAME``."""
    from kthreadd_emu.shell.registry import by_class

    out = []
    for _, text, commands in by_class():
        out.append(f"### {text.rstrip('.')}\n")
        for cmd in commands:
            out += _entry(cmd)
            for sub in cmd.subcommands or ():
                out += _entry(sub)
    return "\n".join(out)


def _entry(cmd) -> list[str]:
    anchor = "kdb-" + (cmd.prefix + cmd.name).replace(" ", "-")
    names = ", ".join(f"`{cmd.prefix}{n}`" for n in (cmd.name, *cmd.aliases))
    return [f"#### {names} {{#{anchor}}}\n", "```text", *cmd.help(), "```\n"]


def on_page_markdown(markdown: str, page, config, files) -> str:
    if _DEBUGGER in markdown:
        shown.add(_DEBUGGER)
        markdown = markdown.replace(_DEBUGGER, debugger_reference())
    if not _HELP.search(markdown):
        return markdown
    known = parsers()

    def expand(match: re.Match) -> str:
        name = (match.group(1) or "").strip()
        if name not in known:
            log.warning(f"{page.file.src_path}: no command {name!r} (kthreadd-emu {name} --help)")
            return match.group(0)
        shown.add(name)
        return f"```text\n{help_text(known[name])}\n```"

    return _HELP.sub(expand, markdown)


def on_post_build(config) -> None:
    for name in sorted(set(parsers()) - shown):
        log.warning(f"kthreadd-emu {name or '(no command)'}: no page shows its --help")
    if _DEBUGGER not in shown:
        log.warning(f"no page has the debugger's command reference ({_DEBUGGER})")
