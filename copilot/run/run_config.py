"""What a run is asked to do: the data, roles, benchmarks, recipe, policy and planner (run.json)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from copilot.agents.recipe import Recipe
from copilot.core import formats
from copilot.core.guidance import GuidanceRule
from copilot.review.policy import Policy
from copilot.run.guidance_setup import ParserChoice
from curation_tools.roles import RoleOverrides


class RunConfig(BaseModel):
    format_version: int = formats.RUN
    data: str
    roles: RoleOverrides = Field(default_factory=RoleOverrides)
    sep: str | None = Field(None, description="a CSV's field separator given by --sep (None: sniffed)")
    benchmarks: list[str] = Field(default_factory=list)
    goal: str = ""
    goal_is_guidance: bool = Field(
        True, description="read the goal's words as guidance (the eval's tasks give a description instead)"
    )
    guidance_parser: ParserChoice = Field("auto", description="offline | llm | auto (offline, the LLM if it refuses)")
    guidance: list[GuidanceRule] = Field(
        default_factory=list, description="the constraints given at the start (a goal's words, a policy's block)"
    )
    recipe: Recipe = Field(default_factory=Recipe)
    policy: Policy
    planner: str = Field("heuristic", description="a registered planner (curation_copilot.planners)")
    llm_judges: bool = False
    skip: list[str] = Field(default_factory=list, description="tools the person said to skip")
    seed: int = 0
    html_report: bool = Field(True, description="write report.html beside report.md (the eval's many runs skip it)")
    max_llm_calls: int | None = None
    max_cost: float | None = None
