"""The offline planner: rules over the profile. Duplicates and contamination first (independent, in
parallel), label errors on the deduplicated data after, then finish."""

from __future__ import annotations

from copilot.agents.plan import Plan, PlanningContext, PlanStep, applicable_tools
from copilot.recipe import RecipeStep
from curation_tools.text import SHORT_TEXT_WORDS


class HeuristicPlanner:
    name = "heuristic"

    def plan(self, context: PlanningContext) -> Plan:
        available = applicable_tools(context)
        done = {o.tool for o in context.done}
        words = (context.profile.get("text_length") or {}).get("words_mean", 0.0)
        paraphrase = words >= SHORT_TEXT_WORDS
        first = [
            PlanStep(tool="dedup", params={}, reason="duplicates inflate classes and leak across splits"),
            PlanStep(
                tool="decontam",
                params={"paraphrase": paraphrase},
                reason="benchmark items in training data inflate scores"
                + (
                    ""
                    if paraphrase
                    else f"; rows average {words:.0f} words, too short to tell a rewording from a query with the "
                    "same intent offline, so verbatim matching only"
                ),
            ),
        ]
        steps = [s for s in first if s.tool in available and s.tool not in done]
        if steps:
            return Plan(steps=steps, rationale="round 1: remove copies before judging labels")
        if "label-errors" in available and "label-errors" not in done:
            dropped = sum(o.applied_edits for o in context.done)
            return Plan(
                steps=[PlanStep(tool="label-errors", reason=f"labels checked after {dropped} edits to the rows")],
                rationale="round 2: label errors on the deduplicated data",
            )
        return Plan(rationale="every applicable tool has run")


class RecipePlanner:
    """A recipe's ordered steps, one per round."""

    name = "recipe"

    def __init__(self, steps: list[RecipeStep]) -> None:
        self.steps = steps

    def plan(self, context: PlanningContext) -> Plan:
        if context.round >= len(self.steps):
            return Plan(rationale="recipe finished")
        step = self.steps[context.round]
        return Plan(steps=[PlanStep(tool=step.tool, params=step.params, reason="recipe step")])


class AllToolsPlanner:
    """The no-agent baseline: every applicable tool with its default parameters, in one round, then finish."""

    name = "all-tools"

    def plan(self, context: PlanningContext) -> Plan:
        if context.round > 0:
            return Plan(rationale="every applicable tool has run")
        tools = [t for t in applicable_tools(context) if t != "augment"]  # cleaning tools; adding rows is a choice
        return Plan(
            steps=[PlanStep(tool=t, reason="all tools, defaults") for t in tools],
            rationale="all applicable cleaning tools with defaults (no agent)",
        )
