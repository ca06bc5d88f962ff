"""Plans and what planners see: typed, validated against the tool registry before anything runs."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from copilot.core.guidance import Guidance
from curation_tools.registry import available_tools
from curation_tools.schema import PlanHint, ToolSpec

MAX_RUNS_PER_TOOL = 2


class PlanStep(BaseModel):
    tool: str
    params: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""


class Plan(BaseModel):
    """One round of steps that do not depend on each other (run in parallel); no steps = finish."""

    steps: list[PlanStep] = Field(default_factory=list)
    rationale: str = ""
    made_by: str = Field("", description="set by the planner, never taken from a model's reply: who made the plan")


class StepOutcome(BaseModel):
    tool: str
    round: int
    findings: int
    approved: int
    rejected: int
    applied_edits: int
    summary: str


class PlanningContext(BaseModel):
    """What a planner sees: a profile and outcomes, never the rows themselves."""

    profile: dict[str, Any]
    roles: dict[str, Any]
    benchmarks: list[str]
    goal: str = ""
    round: int = 0
    done: list[StepOutcome] = Field(default_factory=list)
    skip: list[str] = Field(default_factory=list, description="tools the user said to skip")
    guidance: Guidance = Field(default_factory=Guidance, description="the person's constraints (tools, parameters)")


class Planner(Protocol):
    name: str

    def plan(self, context: PlanningContext) -> Plan: ...


class InvalidPlan(ValueError):
    """A plan that names an unknown or inapplicable tool, bad parameters, or a file parameter."""


def applicable_tools(context: PlanningContext) -> list[str]:
    roles = context.roles
    names = []
    for name, spec in available_tools().items():
        if spec.role == "report":
            continue
        if any(not roles.get(r) for r in spec.required_roles):
            continue
        if (spec.benchmarks == "required" and not context.benchmarks) or name in context.skip:
            continue
        if not context.guidance.allows_tool(name):
            continue
        names.append(name)
    return names


def offered_tools(context: PlanningContext) -> list[str]:
    """The applicable tools a planner offers on its own: not those whose spec names other text layouts (pii runs
    by itself on chat and instruction data; a recipe or a person may run it on any)."""
    layout = context.profile.get("text_layout")
    specs = available_tools()
    return [t for t in applicable_tools(context) if specs[t].layouts is None or layout in specs[t].layouts]


def _runs(context: PlanningContext) -> dict[str, int]:
    runs: dict[str, int] = {}
    for outcome in context.done:
        runs[outcome.tool] = runs.get(outcome.tool, 0) + 1
    return runs


def plannable_tools(context: PlanningContext) -> list[str]:
    """The applicable tools a plan may still run: not those that ran MAX_RUNS_PER_TOOL times already."""
    runs = _runs(context)
    return [t for t in offered_tools(context) if runs.get(t, 0) < MAX_RUNS_PER_TOOL]


def data_hint(spec: ToolSpec, context: PlanningContext) -> PlanHint | None:
    """What the tool's spec says to run it with on this data after the edits so far (None: no hint)."""
    edits = sum(o.applied_edits for o in context.done)
    return spec.plan_hint(context.profile, edits) if spec.plan_hint else None


def keep_data_rules(plan: Plan, context: PlanningContext) -> Plan:
    """A model's plan with the parameters the data decides (each tool's plan hint's `fixed`, the rules the
    heuristic planner follows) set back to the data's values, and its reasons the data's: on 9-word tickets a model
    turning decontam's paraphrase layer on dropped clean rows as benchmark copies, and a small model's own sentence
    can contradict the data ("the dataset does not contain any labels", printed as label-errors started). The
    model chooses the steps; what is shown as why is what the profile says of each chosen tool."""
    specs = available_tools()
    steps, reasons = [], []
    for step in plan.steps:
        spec = specs.get(step.tool)
        hint = data_hint(spec, context) if spec else None
        fixed = {k: hint.params[k] for k in hint.fixed} if hint else {}
        overridden = {k: v for k, v in fixed.items() if k in step.params and step.params[k] != v}
        reason = hint.reason if hint else (spec.summary if spec else step.reason)
        if overridden:
            kept = ", ".join(f"{k}={v}" for k, v in overridden.items())
            reason = f"{reason} [the data keeps {kept}]"
        steps.append(step.model_copy(update={"params": {**step.params, **fixed}, "reason": reason}))
        reasons.append(f"{step.tool}: {reason}")
    rationale = "; ".join(reasons) if reasons else plan.rationale
    return plan.model_copy(update={"steps": steps, "rationale": rationale})


def validate_plan(plan: Plan, context: PlanningContext) -> Plan:
    """Check every step against the registry and its params model; fill run-owned parameters."""
    allowed = applicable_tools(context)
    runs = _runs(context)
    steps = []
    for step in plan.steps:
        if step.tool not in allowed:
            raise InvalidPlan(f"tool '{step.tool}' is not available for this data (available: {', '.join(allowed)})")
        if runs.get(step.tool, 0) >= MAX_RUNS_PER_TOOL:
            raise InvalidPlan(f"tool '{step.tool}' already ran {MAX_RUNS_PER_TOOL} times")
        spec = available_tools()[step.tool]
        owned = set(spec.run_owned) & set(step.params)  # file paths come from the run's flags only
        if owned:
            raise InvalidPlan(
                f"step {step.tool}: parameter(s) {', '.join(sorted(owned))} are set by the run, not a plan"
            )
        params = {**step.params, **context.guidance.params.get(step.tool, {})}  # the person's choices win
        if spec.benchmarks != "none":
            params["benchmark"] = list(context.benchmarks)
        try:
            checked = spec.params_model.model_validate(params)
        except ValidationError as error:
            raise InvalidPlan(f"step {step.tool}: invalid parameters: {error}") from None
        steps.append(PlanStep(tool=step.tool, params=checked.model_dump(mode="json"), reason=step.reason))
    if len({s.tool for s in steps}) != len(steps):
        raise InvalidPlan("a round may run each tool once")
    return Plan(steps=steps, rationale=plan.rationale, made_by=plan.made_by)
