"""How long-running work reports progress: a plain callable, so tools need no UI."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressFn = Callable[[str, int, int | None], None]
"""progress(stage, done, total): total None when unknown."""


def no_progress(stage: str, done: int, total: int | None) -> None:
    """Progress sink that ignores updates."""


HEARTBEAT_S = 4.0
"""a step that reports nothing for this long has its last report sent again: a watcher hears from a long
indivisible step (one fold's fit, writing a large proposal) at least every 2 x HEARTBEAT_S seconds"""


@contextmanager
def heartbeat(
    progress: ProgressFn, first: tuple[str, int, int | None], every: float | None = None
) -> Iterator[ProgressFn]:
    """A progress function for the work inside the block that passes reports on and, whenever `every` seconds go by
    without one, repeats the latest (at first `first`, which is sent at once). Reports are sent one at a time, so a
    repeat never lands after a newer report."""
    every = HEARTBEAT_S if every is None else every
    latest = [first]
    lock = threading.Lock()
    fresh = threading.Event()
    stop = threading.Event()

    def report(stage: str, done: int, total: int | None) -> None:
        with lock:
            latest[0] = (stage, done, total)
            fresh.set()
            progress(stage, done, total)

    def keep_alive() -> None:
        while not stop.wait(every):
            if fresh.is_set():
                fresh.clear()
                continue
            with lock:
                progress(*latest[0])

    report(*first)
    # the thread runs in this context's copy: a progress function may read context variables (LangGraph's stream
    # writer finds its run through them)
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(keep_alive,), name="progress-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield report
    finally:
        stop.set()
        thread.join()
