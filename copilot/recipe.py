"""Scripted-run recipes (YAML): `plan: auto` (the coordinator plans) or an ordered list of tool steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from curation_tools.errors import UserInputError


class RecipeStep(BaseModel):
    tool: str
    params: dict[str, Any] = Field(default_factory=dict)


class Recipe(BaseModel):
    plan: Literal["auto", "steps"] = "auto"
    steps: list[RecipeStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _steps_given(self) -> Recipe:
        if self.steps:
            self.plan = "steps"
        return self


def check_steps(recipe: Recipe, benchmarks: list[str]) -> None:
    """Unknown tools and bad parameters are input errors before the run starts, not failures mid-run."""
    from curation_tools.registry import get_tool

    for number, step in enumerate(recipe.steps, start=1):
        spec = get_tool(step.tool)
        params = {**step.params, **({"benchmark": benchmarks} if step.tool == "decontam" else {})}
        try:
            spec.params_model.model_validate(params)
        except ValidationError as error:
            raise UserInputError(f"recipe step {number} ({step.tool}): invalid parameters: {error}") from None


def load_recipe(path: Path | None) -> Recipe:
    if path is None:
        return Recipe()
    if not path.is_file():
        raise UserInputError(f"{path}: no such recipe file.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Recipe.model_validate(raw)
    except (yaml.YAMLError, ValidationError, TypeError) as error:
        raise UserInputError(f"{path}: not a valid recipe: {error}") from None
