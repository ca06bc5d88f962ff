"""Versions of what curate writes to disk. A reader refuses a version newer than it knows, with a message that
says so, instead of misreading a file a newer curate wrote. Files written before versions existed are version 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curation_tools.errors import UserInputError

RUN = 1  # run.json
WORKSPACE = 1  # workspace.json
PROPOSAL = 1  # proposals in the ledger
EVENTS = 1  # each events.jsonl line
LEDGER = 2  # ledger.sqlite's user_version (2: versions record their file's sha256)
REVIEW_DRAFT = 1  # review_draft.json

KEY = "format_version"


def check(kind: str, found: Any, current: int, where: Path | str) -> None:
    if not isinstance(found, int) or found < 1:
        raise UserInputError(f"{where}: {kind} {KEY} {found!r} is not a version number; the file is damaged.")
    if found > current:
        raise UserInputError(
            f"{where} was written by a newer curate ({kind} format {found}; this curate reads up to {current}). "
            f"Upgrade curation-copilot to open it."
        )


def load_json(path: Path, kind: str, current: int) -> dict[str, Any]:
    """A JSON object file with a format version (1 when absent), refused when newer than `current`."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise UserInputError(f"{path}: not a readable {kind} file ({error}).") from None
    if not isinstance(raw, dict):
        raise UserInputError(f"{path}: not a {kind} file (a JSON {type(raw).__name__}).")
    check(kind, raw.get(KEY, 1), current, path)
    return raw
