"""Holds a run folder's writer lock, as a running `curate run` does, until its standard input closes."""

from __future__ import annotations

import sys
from pathlib import Path

from copilot.core.locks import FolderLock

lock = FolderLock(Path(sys.argv[1]), "a run").acquire()
print("locked", flush=True)
sys.stdin.read()
