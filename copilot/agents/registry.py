"""Planner discovery through the ``curation_copilot.planners`` entry-point group: a planner is its module plus
one registration line, built-ins included (see CONTRIBUTING.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from copilot.agents.plan import Planner
from curation_tools.errors import UserInputError

GROUP = "curation_copilot.planners"


@dataclass
class PlannerDeps:
    """What a planner factory may use: an LLM client (made on first call; a UserInputError when no endpoint
    is configured) and a way to tell the person something while it plans."""

    llm_client: Callable[[], Any]
    notify: Callable[[str], object]


PlannerFactory = Callable[[PlannerDeps], Planner]


@cache
def available_planners() -> dict[str, PlannerFactory]:
    return {entry.name: entry.load() for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name)}


def check_planner(name: str) -> str:
    if name not in available_planners():
        raise UserInputError(f"No planner named '{name}'. Available: {', '.join(available_planners())}.")
    return name


def make_planner(name: str, deps: PlannerDeps) -> Planner:
    return available_planners()[check_planner(name)](deps)
