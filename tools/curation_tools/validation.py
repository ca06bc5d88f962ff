"""Strict validation messages: an unknown key is an error that names the nearest valid key."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def valid_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at `loc` (a pydantic error location) inside `model`."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, str) and part in current.model_fields:
            current = _inner_model(current.model_fields[part].annotation)
    return list(current.model_fields) if current is not None else []


def nearest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(choices) or 'none'}"


def explain(error: ValidationError, model: type[BaseModel]) -> str:
    """One line per problem; unknown keys name the closest valid key at their level."""
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        where = ".".join(map(str, loc)) or "(top level)"
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown key '{where}' ({nearest(str(loc[-1]), valid_keys(model, loc[:-1]))})")
        else:
            problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)
