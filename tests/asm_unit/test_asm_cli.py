"""`kthreadd-emu asm`: listing, raw output, and one-line errors (never a traceback)."""

from __future__ import annotations

import pytest

from kthreadd_emu.cli import main


def run(*argv: str) -> int:
    return main(["asm", *argv])


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "helper.S"
    path.write_text("helper:\n\tpushl $0\n\tcall *%ebx\n\tcall do_exit\n")
    return path


def test_listing_by_default(source, capsys):
    assert run(str(source), "--org", "0xc0100000", "-D", "do_exit=0xc0200040") == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split() == ["1", "c0100000", "helper:"]
    assert rows[1].split() == ["2", "c0100000", "6a00", "pushl", "$0"]
    assert rows[3].split()[:3] == ["4", "c0100004", "e837001000"]


def test_output_file_gets_the_bytes_and_one_summary_line(source, tmp_path, capsys):
    out = tmp_path / "helper.bin"
    assert run(str(source), "--org", "4096", "-D", "do_exit=4096", "-o", str(out)) == 0
    assert out.read_bytes() == bytes.fromhex("6a00ffd3e8f7ffffff")
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 and "9 bytes at 0x00001000" in printed[0]


def test_assembly_error_is_reported_not_raised(source, capsys):
    assert run(str(source)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{source}:4: undefined symbol 'do_exit'\n    call do_exit")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/nonexistent/x.S"], "No such file or directory"),
        (["{source}", "--org", "12abc"], "--org: not a decimal or 0x-hex number"),
        (["{source}", "--org", "0x100000000"], "--org must be between 0 and 4294967295"),
        (["{source}", "-D", "do_exit"], "-D expects NAME=VALUE"),
        (["{source}", "-D", "do_exit=0x1000", "-o", "/nonexistent/dir/x.bin"], "does not exist"),
    ],
)
def test_usage_and_io_errors_are_one_line(source, capsys, argv, expected):
    assert run(*(arg.format(source=source) for arg in argv)) == 1
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_registered_in_the_main_cli(source, capsys):
    assert main(["asm", str(source), "-D", "do_exit=0"]) == 0
    assert "call do_exit" in capsys.readouterr().out


def test_kernel_symbols_on_request(tmp_path, capsys):
    """--kernel: the symbols load_asm and asmtest give a source (do_exit's thunk,
    asm-offsets, per-CPU variables); without it they are undefined."""
    from kernel_model.asm_offsets import asm_defines

    path = tmp_path / "k.S"
    path.write_text("\tmovl %fs:per_cpu__current_task, %eax\n\tmovl TASK_pid(%eax), %eax\n")
    assert run(str(path)) == 1
    assert "undefined symbol" in capsys.readouterr().err
    out = tmp_path / "k.bin"
    assert run(str(path), "--kernel", "-o", str(out)) == 0
    defines = asm_defines()
    expected = b"\x64\xa1" + defines["per_cpu__current_task"].to_bytes(4, "little")
    assert out.read_bytes()[:6] == expected
