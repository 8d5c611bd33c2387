"""The options several commands share are parsed the same by each of them
(kthreadd_emu/options.py): the same value is refused with the same line by
every command that takes the option, before any work."""

from pathlib import Path

import pytest

from kthreadd_emu.cli import COMMANDS, build_parser

# What each command needs besides the option under test to get as far as its checks.
REQUIRED = {
    "stack": ["--pid=2"],
    "record": ["-o", "{out}"],
    "elf": ["-o", "{out}"],
    "debug": ["--batch"],
    "gdbserver": ["--port=0"],
    "asmtest": [str(Path(__file__).parent / "asm" / "limits.S")],
}


def taking(option: str) -> list[str]:
    """The commands whose parser has ``option``."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = []
    for name in COMMANDS:
        cmd = build_parser([name])._subparsers._group_actions[0].choices[name]
        if any(option in a.option_strings for a in cmd._actions):
            names.append(name)
    assert sub.choices.keys() >= set(names)
    return names


CASES = [
    ("--seed", "-1", "--seed must be between 0 and 4294967295, not -1"),
    ("--seed", "4294967296", "--seed must be between 0 and 4294967295, not 4294967296"),
    ("--seed", "x", "--seed: not a decimal or 0x-hex number: 'x'"),
    ("--cpus", "0", "--cpus must be between 1 and 256, not 0"),
    ("--profile", "suse", "unknown profile 'suse' (choose from rhel6, vanilla)"),
    ("--budget", "0", "--budget must be between 1 and 100000000, not 0"),
    ("--pid", "0", "--pid must be between 1 and 32767, not 0"),
]


@pytest.mark.parametrize(
    "command, option, value, message",
    [(c, o, v, m) for o, v, m in CASES for c in taking(o)],
)
def test_a_shared_option_is_refused_alike_everywhere(
    cli, tmp_path, command, option, value, message
):
    out = tmp_path / "out"
    extra = [a.format(out=out) for a in REQUIRED.get(command, []) if not a.startswith(option)]
    status, _, err = cli(command, *extra, f"{option}={value}")
    assert status == 1 and err.startswith(f"kthreadd-emu: {command}: ")
    assert err.strip().endswith(message) and len(err.splitlines()) == 1
    assert not out.exists()


def test_every_machine_command_takes_the_machine_options():
    assert set(taking("--seed")) == set(taking("--cpus")) == set(taking("--profile"))
    assert {"ps", "ptregs", "stack", "record", "debug", "gdbserver", "elf", "stress"} == set(
        taking("--seed")
    )
