"""How long-running work reports progress: a plain callable, so tools need no UI."""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[str, int, int | None], None]
"""progress(stage, done, total): total None when unknown."""


def no_progress(stage: str, done: int, total: int | None) -> None:
    """Progress sink that ignores updates."""
