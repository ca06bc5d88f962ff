"""The run graph's checkpointer: LangGraph's SQLite saver, with every checkpoint and task write stored beside its
BLAKE2 digest and checked when read back. A damaged checkpoint is refused by name instead of resuming a run from
state that was never saved (a flipped byte can decode as a different pending list)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Interrupt, Send
from pydantic import BaseModel

from copilot.core.integrity import DamagedFile
from copilot.core.scrub import Replacement, compact, holds_any, scrub_sqlite, scrub_value

DIGEST = 16
SCHEME = "blake2b"


class DamagedCheckpoint(ValueError):
    """A stored checkpoint's bytes do not match their digest."""


class DigestCipher:
    """Not a cipher: LangGraph's hook for transforming the bytes it stores (`EncryptedSerializer`), used to keep a
    digest with each blob. Blobs stored before it carry no digest and are read as they are."""

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        return SCHEME, hashlib.blake2b(plaintext, digest_size=DIGEST).digest() + plaintext

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        digest, payload = ciphertext[:DIGEST], ciphertext[DIGEST:]
        if ciphername != SCHEME or hashlib.blake2b(payload, digest_size=DIGEST).digest() != digest:
            raise DamagedCheckpoint("a checkpoint does not match its digest")
        return payload


def checkpointer_serde() -> EncryptedSerializer:
    return EncryptedSerializer(DigestCipher(), JsonPlusSerializer())


def checkpointer(conn: sqlite3.Connection) -> SqliteSaver:
    return SqliteSaver(conn, serde=checkpointer_serde())


def damaged(path: Path, error: BaseException) -> DamagedFile:
    return DamagedFile(
        path, f"the run's checkpoints cannot be read back as they were saved ({type(error).__name__}: {error})"
    )


def _rebuilt(value: Any, scrub: Callable[[Any], Any]) -> Any:
    """The objects a checkpoint holds besides plain values: a step's Send (its argument is a plan step) and an
    interrupt (its value is the pending list)."""
    if isinstance(value, Send):
        return Send(value.node, scrub(value.arg))
    if isinstance(value, Interrupt):
        return Interrupt(value=scrub(value.value), id=value.id)
    if isinstance(value, BaseModel):
        return type(value).model_validate(scrub(value.model_dump(mode="json")))
    return value


def scrub_checkpoints(path: Path, replacements: list[Replacement]) -> int:
    """Every stored checkpoint, its metadata and task write, decoded, with the replacements made in its strings,
    and stored again with a fresh digest (a redaction's value must not outlive it in a pending list or a state);
    then the file is rebuilt so no free page keeps the old bytes. Returns the blobs rewritten."""
    serde = checkpointer_serde()
    values = [value for value, _ in replacements]
    changed = 0
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA secure_delete=ON")
        db.execute("BEGIN IMMEDIATE")
        for table, key, blobs in (
            ("checkpoints", "rowid", [("type", "checkpoint"), (None, "metadata")]),
            ("writes", "rowid", [("type", "value")]),
        ):
            for type_column, blob_column in blobs:
                kind = f'"{type_column}"' if type_column else "NULL"
                rows = db.execute(f'SELECT {key}, {kind}, "{blob_column}" FROM "{table}"').fetchall()
                for rowid, kind_value, blob in rows:
                    if not isinstance(blob, bytes) or not holds_any(blob, values):
                        continue
                    if kind_value is None:  # metadata: plain JSON bytes
                        new = json.dumps(scrub_value(json.loads(blob), replacements)).encode()
                        db.execute(f'UPDATE "{table}" SET "{blob_column}"=? WHERE {key}=?', (new, rowid))
                    else:
                        decoded = serde.loads_typed((kind_value, blob))
                        new_kind, new = serde.dumps_typed(scrub_value(decoded, replacements, _rebuilt))
                        db.execute(
                            f'UPDATE "{table}" SET "{type_column}"=?, "{blob_column}"=? WHERE {key}=?',
                            (new_kind, new, rowid),
                        )
                    changed += 1
        scrub_sqlite(db, replacements)
        db.execute("COMMIT")
        compact(db)
    finally:
        db.close()
    return changed
