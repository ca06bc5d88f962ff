"""The run graph's checkpointer: LangGraph's SQLite saver, with every checkpoint and task write stored beside its
BLAKE2 digest and checked when read back. A damaged checkpoint is refused by name instead of resuming a run from
state that was never saved (a flipped byte can decode as a different pending list)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from copilot.core.integrity import DamagedFile

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


def checkpointer(conn: sqlite3.Connection) -> SqliteSaver:
    return SqliteSaver(conn, serde=EncryptedSerializer(DigestCipher(), JsonPlusSerializer()))


def damaged(path: Path, error: BaseException) -> DamagedFile:
    return DamagedFile(
        path, f"the run's checkpoints cannot be read back as they were saved ({type(error).__name__}: {error})"
    )
