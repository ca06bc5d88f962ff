"""What a tool receives besides data and parameters: embedder, optional LLM, progress, cancel, seed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from curation_tools.errors import ToolCancelled

ProgressFn = Callable[[str, int, int | None], None]
"""progress(stage, done, total): total None when unknown."""


def no_progress(stage: str, done: int, total: int | None) -> None:
    """Progress sink that ignores updates."""


class TextModel(Protocol):
    """An LLM as tools see it (judge or generator). Tools never import an LLM SDK themselves."""

    def complete_json(self, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Return one JSON object that conforms to `schema`."""
        ...


@dataclass
class ToolContext:
    cache_dir: Path
    seed: int = 0
    progress: ProgressFn = no_progress
    cancel: threading.Event = field(default_factory=threading.Event)
    llm: TextModel | None = None
    embedder_spec: str = "minilm"

    @cached_property
    def embedder(self):
        from curation_tools.embed import make_embedder

        return make_embedder(self.embedder_spec, cache_dir=self.cache_dir, progress=self.progress)

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise ToolCancelled("cancelled by the user")
