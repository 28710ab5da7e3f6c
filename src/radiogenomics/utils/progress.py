"""Progress bars (rich) for anything long; silent with quiet=True or when not on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@contextmanager
def progress_bar(desc: str, total: int, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n=1)``; draws a bar on stderr unless quiet or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield lambda n=1: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task(desc, total=total)
        yield lambda n=1: progress.advance(task, n)
