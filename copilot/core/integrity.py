"""Checks on files curate reads back from its own workspace: a file that is not what was recorded is refused,
with a message naming it, never read as if it were right.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
from pathlib import Path

from curation_tools.errors import UserInputError

SQLITE_MAGIC = b"SQLite format 3\x00"
CHUNK = 1 << 20


class DamagedFile(UserInputError):
    """A workspace file is missing, truncated, or not what the ledger recorded."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        super().__init__(
            f"{path}: {problem}. curate will not read a workspace file that is not what it recorded, since every "
            f"export and undo is built from it. Restore the file from a backup, or start over from the input file "
            f"with a new --workspace (or a new run --out folder); the input file itself is never modified."
        )


class WriteFailed(UserInputError):
    """The disk refused a write (full, read-only, gone): what was being written is not current."""

    def __init__(self, folder: Path | str, what: str, error: BaseException) -> None:
        detail = getattr(error, "strerror", None) or str(error)
        super().__init__(
            f"{folder}: could not write to {what} ({detail}). Nothing of that write is current: the previous state "
            f"is kept as it was. Free disk space or make the folder writable, then run the command again."
        )


WRITE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EIO}
SQLITE_WRITE_ERRORS = ("disk is full", "readonly", "read-only", "unable to open", "disk i/o error")


def is_write_failure(error: BaseException) -> bool:
    """A write the disk refused: full, read-only, no permission, or an I/O error (pyarrow's errors carry the errno
    only in their text)."""
    if isinstance(error, sqlite3.OperationalError):
        return any(text in str(error).lower() for text in SQLITE_WRITE_ERRORS)
    if isinstance(error, OSError):
        return error.errno in WRITE_ERRNOS or any(f"[Errno {n}]" in str(error) for n in WRITE_ERRNOS)
    return False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def check_hash(path: Path, expected: str, what: str) -> None:
    """DamagedFile unless `path` exists and its sha256 is `expected`."""
    if not path.is_file():
        raise DamagedFile(path, f"{what} is missing")
    found = file_sha256(path)
    if found != expected:
        raise DamagedFile(
            path, f"{what} has changed since curate wrote it (sha256 {found[:12]}, recorded {expected[:12]})"
        )


def check_sqlite_file(path: Path, what: str) -> None:
    """A cheap structural check before SQLite opens a file: present, the SQLite header, whole pages. SQLite would
    otherwise treat an empty or deleted file as a new, empty database (an empty history) and report a truncated one
    only at the first query that reaches the missing pages."""
    if not path.is_file():
        raise DamagedFile(path, f"{what} is missing")
    size = path.stat().st_size
    with open(path, "rb") as handle:
        header = handle.read(100)
    if size == 0:
        raise DamagedFile(path, f"{what} is empty")
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise DamagedFile(path, f"{what} is not an SQLite database (its header is damaged)")
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size:  # pages not yet copied back live in the journal: sizes say nothing
        return
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]
    if page_size < 512 or page_size & (page_size - 1) or size % page_size:
        raise DamagedFile(path, f"{what} is truncated or its header is damaged ({size} bytes)")
    if counter_valid and pages and size < pages * page_size:
        raise DamagedFile(path, f"{what} is truncated ({size} of {pages * page_size} bytes)")


_CHECKED: set[tuple[str, int]] = set()  # SQLite files that passed quick_check in this process


def check_sqlite_integrity(db: sqlite3.Connection, path: Path, what: str) -> None:
    """SQLite's own `quick_check` on an open database, once per file per process: it reads every page (a second
    or two for a ledger of a million rows' proposals), and within one process the file changes only by this
    process's own writes."""
    key = (str(path.resolve()), os.stat(path).st_ino)
    if key in _CHECKED:
        return
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as error:
        raise DamagedFile(path, f"{what} is damaged ({error})") from None
    if problems != ["ok"]:
        raise DamagedFile(path, f"{what} fails SQLite's integrity check ({'; '.join(problems)})")
    _CHECKED.add(key)


_HASHED: dict[Path, tuple[int, int, int]] = {}  # files whose sha256 matched, by their state on disk then


def check_recorded(path: Path, sha256: str | None, what: str) -> None:
    """The file is there and, where a hash was recorded, has it; hashed again only when the file has changed on
    disk since it last matched in this process."""
    if not path.is_file():
        raise DamagedFile(path, f"{what} is missing")
    stat = path.stat()
    state = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if sha256 is None or _HASHED.get(path) == state:
        return
    check_hash(path, sha256, what)
    _HASHED[path] = state


def unwritable(folder: Path) -> bool:
    """True when the process may not create files in `folder` (permissions, or a read-only mount)."""
    return folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK)
