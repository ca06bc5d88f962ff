"""The one JSONL reader the benchmark scripts share."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def records(path: Path) -> list[dict]:
    """The records of a JSONL file, gzipped or not (split on newlines only: texts may hold other line breaks)."""
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line.strip()]
