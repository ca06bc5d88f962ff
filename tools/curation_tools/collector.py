"""Pausing Python's cyclic garbage collector while many lasting objects are made at once."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def many_objects() -> Iterator[None]:
    """Make many lasting objects (findings, edits, a parsed proposal) without the collector's full passes: each pass
    walks every live object, finds nothing to free among them, and comes again as the heap grows (28 s of full
    passes in a 1M-row run, up to 3 s each, while no other thread runs). Objects are still freed as their last
    reference goes; cycles wait for the end of the pause. Nested and concurrent uses share one pause."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
