"""Terminal output for the CLI: errors without tracebacks, progress bars, summaries (stderr)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from copilot.core.control_chars import visible

PIPE_WIDTH = 4096


class InertConsole(Console):
    """A console that shows control characters in any text it prints (messages, table cells, panels) as visible
    symbols (`copilot.core.control_chars`): a cell, id or LLM reply holding a terminal escape cannot clear the screen or
    set the window title. Rich escapes markup; this covers what markup escaping leaves alone."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(visible(text), **kwargs)

    @property
    def size(self) -> ConsoleDimensions:
        """Written to a pipe or a file, lines are as long as what they say (rich would wrap them at 80 columns,
        mid-sentence); a terminal, or COLUMNS, sets the width as usual."""
        size = super().size
        if self._width is None and not self.is_terminal and "COLUMNS" not in os.environ:
            return ConsoleDimensions(PIPE_WIDTH, size.height)
        return size


err = InertConsole(stderr=True, highlight=False)
out = InertConsole(highlight=False)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)  # messages quote file names, cells
    raise SystemExit(code)


class ProgressBars:
    """A rich progress bar per stage; the callable matches curation_tools' ProgressFn."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)


@contextmanager
def progress_bars() -> Iterator[ProgressBars]:
    progress = Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # no blank lines in logs and pipes
    )
    with progress:
        yield ProgressBars(progress)


class ProgressLines:
    """Without a terminal (a log, a pipe, CI): a plain line for a stage that has run `every` seconds, again every
    `every` seconds, and one when it completes, so a long step is never silent and a short one adds nothing."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._since: dict[str, float] = {}  # stage -> when it started, then when its last line was printed
        self._shown: set[str] = set()
        self._done: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if done < self._done.get(stage, 0):  # the stage started again (a later round)
            self._since.pop(stage, None)
        self._done[stage] = done
        since = self._since.setdefault(stage, now)
        complete = total is not None and done >= total
        if not (now - since >= self.every or (complete and stage in self._shown)):
            return
        self._since[stage] = now if not complete else float("inf")
        self._shown.add(stage)
        share = f" ({done / total:.0%})" if total else ""
        err.print(f"  {stage}: {done:,}/{total:,}{share}" if total else f"  {stage}: {done:,}", markup=False)


@contextmanager
def run_progress() -> Iterator[ProgressBars | ProgressLines]:
    """Progress of a headless run: live bars on a terminal, else plain lines (every CURATE_PROGRESS_EVERY s, 10)."""
    if not err.is_terminal:
        yield ProgressLines(float(os.environ.get("CURATE_PROGRESS_EVERY", "10")))
        return
    with progress_bars() as bars:
        yield bars
