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


@dataclass(frozen=True)
class PlannerSpec:
    """A registered planner and what it needs, read by the Session (an LLM client and the LLM helpers tools get)
    and by `curate eval` (it runs any registered planner, one that uses an LLM only with an endpoint). An entry
    point may name a PlannerSpec, or a bare factory: a planner that needs no LLM."""

    name: str
    make: PlannerFactory
    uses_llm: bool = False
    generates: bool = False  # its runs give tools the LLM's text generator (augment writes with it)
    summary: str = ""


def _spec(name: str, loaded: Any) -> PlannerSpec:
    if isinstance(loaded, PlannerSpec):
        return loaded
    return PlannerSpec(name=name, make=loaded)


@cache
def available_planners() -> dict[str, PlannerSpec]:
    return {e.name: _spec(e.name, e.load()) for e in sorted(entry_points(group=GROUP), key=lambda e: e.name)}


def planner_spec(name: str) -> PlannerSpec:
    if name not in available_planners():
        raise UserInputError(f"No planner named '{name}'. Available: {', '.join(available_planners())}.")
    return available_planners()[name]


def check_planner(name: str) -> str:
    return planner_spec(name).name


def make_planner(name: str, deps: PlannerDeps) -> Planner:
    return planner_spec(name).make(deps)
