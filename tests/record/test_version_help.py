"""kthreadd-emu --version and --help, as a user reads them."""

import pytest

from kthreadd_emu.cli import COMMANDS, main


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("kthreadd-emu 0.1.0 ")


def test_help_names_every_command_in_one_line_and_the_readme(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "emulated CPU" in out and "README.md" in out
    lines = out.splitlines()
    for name in COMMANDS:
        i = next(i for i, x in enumerate(lines) if x.strip().startswith(name + " "))
        following = lines[i + 1]
        assert not following.startswith(" " * 8), f"{name}'s help wraps: {following!r}"
