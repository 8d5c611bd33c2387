"""Progress bars: drawn on a terminal, absent when the output is piped."""

import io

from kthreadd_emu.cli import main
from kthreadd_emu.progress import NULL, progress_bar


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_a_bar():
    term = FakeTerminal()
    with progress_bar("threads created", 4, stream=term) as bar:
        assert bar is not NULL
        for _ in range(4):
            bar.advance()
    assert "threads created" in term.getvalue()


def test_a_pipe_gets_nothing():
    pipe = io.StringIO()
    with progress_bar("threads created", 4, stream=pipe) as bar:
        assert bar is NULL
        bar.advance()
    assert pipe.getvalue() == ""


def test_stress_piped_prints_only_its_result(capsys):
    assert main(["stress", "--threads", "50", "--cpus", "2"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[0].startswith("created 50, failed 0")
