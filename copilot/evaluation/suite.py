"""Eval suites: YAML files in evals/ listing tasks (source, plants, goal, reviewer, seed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from copilot.core.guidance import Guidance
from copilot.core.resources import resource_dir
from copilot.evaluation.builders import Plants, Source
from curation_tools.errors import UserInputError


class Task(BaseModel):
    name: str
    source: Source
    plants: Plants = Field(default_factory=Plants)
    goal: str = ""
    reviewer: str = "oracle"
    seed: int = 0
    restraint: bool = Field(False, description="the right move is to change little or nothing")
    guidance: str = Field("", description="guidance suite: the words, in a documented phrasing")
    reworded: str = Field("", description="guidance suite: the same wish in plain words (what the LLM rows read)")
    expect: Guidance | None = Field(None, description="guidance suite: the constraints the words mean")


class Suite(BaseModel):
    name: str
    description: str = ""
    kind: Literal["curation", "guidance", "review-effort", "pii"] = Field(
        "curation",
        description="curation: runs scored against planted issues; guidance: runs with and without the task's "
        "guidance words; review-effort: decisions to reach the real errors, static and learning queues; pii: chats "
        "with planted personal data, redacted and forgotten",
    )
    tasks: list[Task]


def load_suite(name_or_path: str) -> Suite:
    path = Path(name_or_path)
    if not path.is_file():
        path = resource_dir("evals") / f"{name_or_path}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in resource_dir("evals").glob("*.yaml"))
        raise UserInputError(f"No suite '{name_or_path}'. Suites: {', '.join(known)}; or give a YAML path.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        suite = Suite.model_validate({"name": path.stem, **raw})
    except (yaml.YAMLError, ValidationError, TypeError) as error:
        raise UserInputError(f"{path}: not a valid suite: {error}") from None
    for task in suite.tasks:  # case folders are named relative to the suite file
        if task.source.path and not Path(task.source.path).is_absolute():
            task.source.path = str((path.parent / task.source.path).resolve())
    return suite


def write_results(out_dir: Path, suite: str, results: list[dict], table: str) -> None:
    """Every suite kind's outputs: results.json (the rows) and results.md (its table)."""
    (out_dir / "results.json").write_text(json.dumps({"suite": suite, "results": results}, indent=2))
    (out_dir / "results.md").write_text(table)
