"""How long-running work reports progress: a plain callable, so tools need no UI."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressFn = Callable[[str, int, int | None], None]
"""progress(stage, done, total): total None when unknown."""


def no_progress(stage: str, done: int, total: int | None) -> None:
    """Progress sink that ignores updates."""


HEARTBEAT_S = 4.0
"""a step that reports nothing for this long has its last report sent again: a watcher hears from a long
indivisible step (one fold's fit, writing a large proposal) at least every HEARTBEAT_S seconds, while the thread
can run (a compiled call that holds the GIL for longer silences it)"""


@contextmanager
def heartbeat(
    progress: ProgressFn, first: tuple[str, int, int | None], every: float | None = None
) -> Iterator[ProgressFn]:
    """A progress function for the work inside the block that passes reports on and, whenever `every` seconds go by
    since the latest report, sends it again (at first `first`, which is sent at once). Reports are sent one at a
    time, so a repeat never lands after a newer report."""
    every = HEARTBEAT_S if every is None else every
    latest = [first]
    sent = [time.monotonic()]
    lock = threading.Lock()
    stop = threading.Event()

    def report(stage: str, done: int, total: int | None) -> None:
        with lock:
            latest[0] = (stage, done, total)
            sent[0] = time.monotonic()
            progress(stage, done, total)

    def keep_alive() -> None:
        while not stop.wait(max(0.0, sent[0] + every - time.monotonic())):
            with lock:
                if time.monotonic() - sent[0] < every:  # a report came while this thread slept
                    continue
                sent[0] = time.monotonic()
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
