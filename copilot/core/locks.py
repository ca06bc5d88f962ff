"""Process locks on folders: one live writer per run folder, one creator per workspace.

Locks are `flock`s on a file inside the folder, so the kernel releases them when the holder exits or is
killed: a crashed run never leaves a stale lock behind. The holder writes its pid into the file so a
second writer can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from curation_tools.errors import UserInputError

LOCK_NAME = ".lock"


class FolderLock:
    """An exclusive lock on a folder, held until `release()` or the end of the process."""

    def __init__(self, folder: Path, what: str) -> None:
        self.folder = Path(folder)
        self.what = what
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self.folder / LOCK_NAME

    def acquire(self, wait: bool = False) -> FolderLock:
        """Take the lock; without `wait`, a held lock is a UserInputError naming the holder's pid."""
        if self._fd is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise UserInputError(
                f"{self.folder} is in use: another curate process (pid {holder}) is writing {self.what}. "
                f"Wait for it to finish or stop it; two writers on one folder would overwrite each other."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __del__(self) -> None:
        self.release()


@contextmanager
def folder_lock(folder: Path, what: str, wait: bool = False) -> Iterator[FolderLock]:
    lock = FolderLock(folder, what).acquire(wait=wait)
    try:
        yield lock
    finally:
        lock.release()
