"""Toy third-party tools (the worked example in CONTRIBUTING.md): drop rows whose text is too short to mean much;
tidy runs of spaces in a text cell, with evidence fields of its own. And a toy planner."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset
from curation_tools.schema import Action, Evidence, EvidenceField, Finding, PlanHint, Proposal, ToolResult, ToolSpec


class ShortRowsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_words: int = Field(2, ge=1, le=1000, description="rows with at most this many words are proposed for dropping")


def run(data: Dataset, params: ShortRowsParams, ctx: ToolContext) -> ToolResult:
    texts = data.texts()
    findings = [
        Finding(
            row_id=row_id,
            issue="too_short",
            score=1.0,
            action=Action(type="drop"),
            message=f"{len(text.split())} word(s)",
            evidence=Evidence(notes=[text]),
        )
        for row_id, text in texts.items()
        if len(text.split()) <= params.max_words
    ]
    summary = f"{len(findings)} rows of at most {params.max_words} words among {len(texts)} rows"
    return ToolResult(
        proposal=Proposal(
            tool="short-rows", tool_version="0.1", params=params.model_dump(), summary=summary, findings=findings
        )
    )


SPEC = ToolSpec(
    name="short-rows",
    version="0.1",
    summary="Rows whose text is too short to mean much.",
    issue_types=["too_short"],
    required_roles=["text"],
    params_model=ShortRowsParams,
    run=run,
    role="cleaning",
    stage=1,
    plan_hint=lambda profile, edits: PlanHint(reason="one-word rows teach a classifier nothing"),
)


class TidySpacesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


def tidy(data: Dataset, params: TidySpacesParams, ctx: ToolContext) -> ToolResult:
    column = data.roles.text[0]
    findings = []
    for row_id, text in data.frame[column].items():
        if not isinstance(text, str) or "  " not in text:
            continue
        tidied = " ".join(text.split())
        findings.append(
            Finding(
                row_id=row_id,
                issue="extra_spaces",
                score=1.0,
                action=Action(type="edit_cell", column=column, new_value=tidied),
                message="runs of spaces in the text",
                evidence=Evidence(before=text, after=tidied, spaces=len(text) - len(tidied)),
            )
        )
    summary = f"{len(findings)} texts with runs of spaces"
    return ToolResult(
        proposal=Proposal(tool="tidy-spaces", tool_version="0.1", params={}, summary=summary, findings=findings)
    )


TIDY = ToolSpec(
    name="tidy-spaces",
    version="0.1",
    summary="Runs of spaces in a text cell, made one.",
    issue_types=["extra_spaces"],
    required_roles=["text"],
    params_model=TidySpacesParams,
    run=tidy,
    role="cleaning",
    stage=1,
    evidence="edit",
    evidence_fields=[EvidenceField(name="spaces", title="extra spaces removed", kind="number")],
)


class ShortRowsOnlyPlanner:
    """A toy planner: one round of short-rows, then finish."""

    name = "short-rows-only"

    def plan(self, context):
        from copilot.agents.plan import Plan, PlanStep

        if context.round > 0:
            return Plan(rationale="done")
        return Plan(steps=[PlanStep(tool="short-rows", reason="toy planner")], rationale="only short rows")


def make_planner(deps):
    return ShortRowsOnlyPlanner()
