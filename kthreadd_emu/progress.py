"""Progress on long work: a bar on a terminal, nothing at all when piped.

    with progress_bar("threads", total=n) as bar:
        for ...:
            bar.advance()

The bar goes to stderr (stdout stays the command's output) and is drawn by
rich only when stderr is a terminal; otherwise the bar is a no-op.
"""

import sys
from contextlib import contextmanager


class NullBar:
    """What long work reports to when nobody watches."""

    def advance(self, n: int = 1) -> None:
        pass

    def describe(self, text: str) -> None:
        pass


NULL = NullBar()


class _RichBar:
    def __init__(self, progress, task):
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)

    def describe(self, text: str) -> None:
        self._progress.update(self._task, description=text)


@contextmanager
def progress_bar(description: str, total: int, stream=None):
    """A bar over ``total`` units of work on ``stream`` (default stderr) if it is a
    terminal; a NullBar otherwise."""
    stream = sys.stderr if stream is None else stream
    if not (hasattr(stream, "isatty") and stream.isatty()):
        yield NULL
        return
    # rich is imported only when a bar is drawn: every command would pay for it.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=True) as progress:
        yield _RichBar(progress, progress.add_task(description, total=total))
