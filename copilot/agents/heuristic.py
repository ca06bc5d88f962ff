"""The offline planners: the heuristic one (tool stages from the specs: copies first, in parallel, labels after,
then finish), a recipe's fixed steps, and the all-tools baseline."""

from __future__ import annotations

from copilot.agents.plan import Plan, Planner, PlanningContext, PlanStep, data_hint, offered_tools
from copilot.agents.recipe import RecipeStep
from copilot.agents.registry import PlannerDeps, PlannerSpec
from curation_tools.registry import available_tools
from curation_tools.schema import PlanHint

STAGE_RATIONALE = {
    0: "personal data and secrets first: no later step copies them into its findings",
    1: "remove copies before judging labels",
    2: "label errors on the deduplicated data",
}


class HeuristicPlanner:
    """Each round runs the next stage's cleaning tools (their specs say the stage, parameters and reason):
    stage 0 redacts personal data (chat and instruction data), stage 1 removes copies (dedup, decontam), stage 2
    judges labels on what is left. Tools that add rows are
    left to recipes and the LLM planner: adding data is a choice, not a fix."""

    name = "heuristic"

    def plan(self, context: PlanningContext) -> Plan:
        specs = available_tools()
        done = {o.tool for o in context.done}
        todo = [specs[n] for n in offered_tools(context) if specs[n].role == "cleaning" and n not in done]
        if not todo:
            return Plan(rationale="every applicable tool has run")
        stage = min(spec.stage for spec in todo)
        # within a stage, checks of the data itself before checks against benchmark files
        chosen = sorted((s for s in todo if s.stage == stage), key=lambda s: (s.benchmarks != "none", s.name))
        steps = []
        for spec in chosen:
            hint = data_hint(spec, context) or PlanHint(reason=spec.summary)
            steps.append(PlanStep(tool=spec.name, params=hint.params, reason=hint.reason))
        names = [s.name for s in chosen]
        rationale = STAGE_RATIONALE.get(stage, f"stage {stage}: {', '.join(names)}")
        if stage == 2 and "label-errors" not in names:  # chat data: reply checks, no labels
            rationale = f"{', '.join(names)} on the deduplicated data"
        return Plan(steps=steps, rationale=f"round {context.round + 1}: {rationale}")


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
        specs = available_tools()
        tools = [t for t in offered_tools(context) if specs[t].role == "cleaning"]  # adding rows is a choice
        return Plan(
            steps=[PlanStep(tool=t, reason="all tools, defaults") for t in tools],
            rationale="all applicable cleaning tools with defaults (no agent)",
        )


def make_heuristic(deps: PlannerDeps) -> Planner:
    return HeuristicPlanner()


def make_all_tools(deps: PlannerDeps) -> Planner:
    return AllToolsPlanner()


HEURISTIC = PlannerSpec(name="heuristic", make=make_heuristic, summary="offline rules: copies before labels")
ALL_TOOLS = PlannerSpec(name="all-tools", make=make_all_tools, summary="a baseline: every applicable tool, once")
