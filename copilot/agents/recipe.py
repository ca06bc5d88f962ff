"""Scripted-run recipes (YAML): `plan: auto` (the coordinator plans) or an ordered list of tool steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from copilot.core.yaml_files import read_yaml_mapping
from curation_tools.errors import UserInputError
from curation_tools.validation import explain


class RecipeStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str
    params: dict[str, Any] = Field(default_factory=dict)


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
        params = {**step.params, **({"benchmark": benchmarks} if spec.benchmarks != "none" else {})}
        try:
            spec.params_model.model_validate(params)
        except ValidationError as error:
            raise UserInputError(
                f"recipe step {number} ({step.tool}): invalid parameters: {explain(error, spec.params_model)}."
            ) from None


def load_recipe(path: Path | None) -> Recipe:
    if path is None:
        return Recipe()
    if not path.is_file():
        raise UserInputError(f"{path}: no such recipe file.")
    raw = read_yaml_mapping(path, "recipe")
    try:
        return Recipe.model_validate(raw)
    except ValidationError as error:
        raise UserInputError(f"{path}: not a valid recipe: {explain(error, Recipe)}.") from None
