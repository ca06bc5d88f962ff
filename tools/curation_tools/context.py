"""What a tool receives besides data and parameters: embedder, optional LLM, progress, cancel, seed."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from curation_tools.engine import Engine, engine_for
from curation_tools.errors import ToolCancelled
from curation_tools.progress import ProgressFn, no_progress
from curation_tools.threads import usable_cpus


class LabelQuestion(BaseModel):
    """One row for an LLM judge: is the given label right, or the suggested one?"""

    row_id: str
    text: str
    given_label: str
    suggested_label: str


class LabelVerdict(BaseModel):
    row_id: str
    verdict: Literal["given", "suggested", "other", "unsure"]
    confidence: float = Field(ge=0, le=1)
    votes: list[str] = Field(default_factory=list, description="each prompt/model's verdict, for the record")
    note: str = Field("", description="why a verdict cannot act, when the judge says so (e.g. it failed its probes)")


class LabelJudge(Protocol):
    """An LLM judge as tools see it. Tools never import an LLM SDK; the copilot implements this."""

    def judge_labels(self, questions: list[LabelQuestion]) -> list[LabelVerdict]: ...


class ContaminationQuestion(BaseModel):
    """One borderline pair for an LLM judge: is the training text a copy or rewording of the benchmark item?"""

    pair_id: str
    train_text: str
    benchmark_text: str


class ContaminationVerdict(BaseModel):
    pair_id: str
    contaminated: bool
    confidence: float = Field(ge=0, le=1)
    votes: list[bool] = Field(default_factory=list, description="each prompt/model's verdict, for the record")
    note: str = Field("", description="why a verdict cannot act, when the judge says so (e.g. it failed its probes)")


class GenerationRequest(BaseModel):
    """Ask a text generator for `n` new rows of one class, in the style of the exemplars."""

    label: str
    exemplars: list[str]
    n: int = Field(ge=1)
    seed: int = 0


class TextGenerator(Protocol):
    """An LLM generator as tools see it (the copilot implements it on its LLM client)."""

    model: str
    prompt_version: int

    def generate(self, request: GenerationRequest) -> list[str]: ...


class ContaminationJudge(Protocol):
    def judge_contamination(self, questions: list[ContaminationQuestion]) -> list[ContaminationVerdict]: ...


@dataclass
class ToolContext:
    cache_dir: Path
    seed: int = 0
    progress: ProgressFn = no_progress
    cancel: threading.Event = field(default_factory=threading.Event)
    judge: LabelJudge | None = None
    contamination_judge: ContaminationJudge | None = None
    generator: TextGenerator | None = None
    embedder_spec: str = "minilm"
    engine_spec: str = "local"
    """where heavy stages run: local, dask (a cluster on 127.0.0.1) or dask@SCHEDULER_ADDRESS (see engine.py)"""
    workspace: Path | None = None
    """where persistent indexes live (the session workspace); the cache folder when None"""
    threads: int = field(default_factory=usable_cpus)
    """the tool's thread budget for OpenMP, BLAS and onnxruntime pools (a share of the cores when tools run
    in parallel)"""

    @property
    def index_dir(self) -> Path:
        return (self.workspace or self.cache_dir) / "benchmark_index"

    @cached_property
    def engine(self) -> Engine:
        return engine_for(self.engine_spec, self.threads, self.cache_dir)

    @cached_property
    def embedder(self):
        from curation_tools.embed import make_embedder

        return make_embedder(
            self.embedder_spec,
            cache_dir=self.cache_dir,
            progress=self.progress,
            threads=self.threads,
            engine=self.engine,
        )

    def embedder_named(self, spec: str):
        """The embedder of another spec, with the same cache, engine and progress (the context's own for its spec)."""
        from curation_tools.embed import make_embedder

        if spec == self.embedder_spec:
            return self.embedder
        return make_embedder(
            spec, cache_dir=self.cache_dir, progress=self.progress, threads=self.threads, engine=self.engine
        )

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise ToolCancelled("cancelled by the user")
