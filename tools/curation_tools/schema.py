"""The contracts every tool and the copilot share: ToolSpec, Finding, Evidence, Action, Proposal."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from curation_tools.context import ToolContext
    from curation_tools.dataset import Dataset

JsonScalar = str | int | float | bool | None


class ActionType(StrEnum):
    drop = "drop"
    relabel = "relabel"
    flag = "flag"
    edit_cell = "edit_cell"
    add_rows = "add_rows"


class Action(BaseModel):
    """What a finding suggests doing to its row. Only the ledger carries it out, after a decision."""

    model_config = ConfigDict(frozen=True)

    type: ActionType
    new_label: JsonScalar = Field(None, description="relabel: the label to set")
    column: str | None = Field(None, description="edit_cell: the column to change")
    new_value: JsonScalar = Field(None, description="edit_cell: the value to set")
    path: list[str | int] | None = Field(
        None,
        description="edit_cell: where inside the cell's JSON value the new value goes (a chat's `messages` list: "
        "[2, 'content']); None: the whole cell",
    )
    replace: str | None = Field(
        None,
        description="edit_cell: the exact text inside the value (its first occurrence) that new_value replaces, as "
        "a redaction does; None: new_value is the whole value",
    )
    new_row: dict[str, Any] | None = Field(None, description="add_rows: the row's data columns")
    origin: dict[str, Any] | None = Field(
        None, description="add_rows: provenance (origin, method, model, prompt version, seed, ...)"
    )


class Neighbour(BaseModel):
    row_id: str
    label: JsonScalar = None
    similarity: float


class ClassProbability(BaseModel):
    label: JsonScalar
    probability: float


class Evidence(BaseModel):
    """Why a finding was made, in terms a reviewer can judge. A tool adds its own fields (extra keys) and declares
    how they are shown with `ToolSpec.evidence_fields`; the fields below are shown by the views that use them."""

    model_config = ConfigDict(extra="allow")

    given_label: JsonScalar = None
    given_label_name: str | None = Field(None, description="the given label's name, where a column names codes")
    suggested_label: JsonScalar = None
    suggested_label_name: str | None = Field(None, description="the suggested label's name, likewise")
    suggested_confidence: float | None = None
    top_classes: list[ClassProbability] | None = None
    neighbours: list[Neighbour] | None = None
    duplicate_of: str | None = None
    cluster_id: str | None = None
    kept_text: str | None = None
    diff: str | None = None
    benchmark: str | None = None
    benchmark_item: str | None = None
    benchmark_text: str | None = None
    overlapping_spans: list[str] | None = Field(
        None, description="the word runs a row shares with a benchmark item (normalised words), marked in both texts"
    )
    before: str | None = Field(None, description="a cell edit's text before, as a reviewer reads it")
    after: str | None = Field(None, description="and after the edit")
    method: str | None = None
    notes: list[str] = Field(default_factory=list)


class Finding(BaseModel):
    """One flagged row: what is wrong, how sure the tool is, what it suggests, and why."""

    finding_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    row_id: str
    issue: str
    score: float = Field(description="higher = more certain")
    action: Action
    message: str = ""
    evidence: Evidence = Field(default_factory=Evidence)

    def to_record(self) -> dict[str, Any]:
        """Flat JSON object for a findings file: the stable keys first, then tool fields."""
        record: dict[str, Any] = {
            "row_id": self.row_id,
            "issue": self.issue,
            "score": self.score,
            "action": self.action.type.value,
        }
        action_fields = self.action.model_dump(exclude={"type"}, exclude_none=True)
        evidence_fields = self.evidence.model_dump(exclude_none=True)
        if not evidence_fields.get("notes"):
            evidence_fields.pop("notes", None)
        record.update(action_fields)
        record.update(evidence_fields)
        record["message"] = self.message
        record["finding_id"] = self.finding_id
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Finding:
        """Inverse of to_record (extra keys such as 'tool' are ignored)."""
        data = {k: v for k, v in record.items() if k != "tool"}
        action_keys = set(Action.model_fields) - {"type"}
        action = Action(type=data.pop("action"), **{k: data.pop(k) for k in list(data) if k in action_keys})
        head = {k: data.pop(k) for k in ("row_id", "issue", "score", "message", "finding_id") if k in data}
        return cls(action=action, evidence=Evidence(**data), **head)


class Proposal(BaseModel):
    """Everything one tool run suggests, decided as a whole with per-finding overrides."""

    format_version: int = Field(1, description="this model's on-disk version; a newer one is refused by readers")
    proposal_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    tool: str
    tool_version: str
    params: dict[str, Any] = Field(default_factory=dict)
    summary: str
    findings: list[Finding] = Field(default_factory=list)
    models: dict[str, str] = Field(
        default_factory=dict, description="the models behind the findings, by role (e.g. 'embedder'): card and report"
    )
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def counts_by_issue(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.issue] = counts.get(finding.issue, 0) + 1
        return counts


class ToolResult(BaseModel):
    """A tool's output: its findings (inside the proposal) and a tool-specific report."""

    proposal: Proposal
    report: dict[str, Any] = Field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        return self.proposal.findings


class PlanHint(BaseModel):
    """What the offline planner runs a tool with, and why, given the data's profile and the edits so far."""

    params: dict[str, Any] = Field(default_factory=dict)
    reason: str
    fixed: list[str] = Field(
        default_factory=list,
        description="parameters of `params` the data decides: a model's plan may not set them otherwise",
    )


class EvidenceField(BaseModel):
    """One evidence field a tool adds (an extra key of its Evidence) and how a reviewer is shown it: in the TUI, the
    review page, the review sheet and report.html, with no change to any of them."""

    name: str
    title: str
    kind: Literal["text", "label", "number", "list"] = "text"


class Coverage(BaseModel):
    """What a run of a contamination tool with given parameters checked, and what it did not: the dataset card's
    contamination statement, in the tool's own words."""

    checked: list[str]
    not_checked: list[str]


EvidenceView = Literal["labels", "duplicates", "overlap", "edit", "text"]


class ToolSpec(BaseModel):
    """A registered tool: what it is for and needs, read by planners, recipes, `scan`, the review screen and the
    eval scorer (none of them names a tool), plus the function and its parameter model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    version: str
    summary: str
    issue_types: list[str] = Field(default_factory=list)
    required_roles: list[str] = Field(default_factory=list, description="column roles the tool cannot run without")
    output: str = Field("findings", description="'findings' (JSONL), 'report' (JSON) or 'rows' (JSONL of new rows)")
    role: Literal["report", "cleaning", "augmenting"] = Field(
        "cleaning", description="report: describes, proposes nothing; cleaning: fixes rows; augmenting: adds rows"
    )
    stage: int = Field(1, ge=0, description="planning order: a stage runs after every earlier stage's tools")
    benchmarks: Literal["none", "optional", "required"] = Field(
        "none", description="whether the run's --benchmark files fill its `benchmark` parameter (and must exist)"
    )
    run_owned: list[str] = Field(
        default_factory=list, description="parameters only the run's own flags set (file paths), never a plan"
    )
    unplanned: list[str] = Field(
        default_factory=list,
        description="parameters a planner is not shown (how the tool computes, not what it finds); a recipe, a "
        "policy's guidance or the command line may still set them",
    )
    finds: Literal["duplicate", "leak", "label", "pii"] | None = Field(
        None, description="the kind of planted problem it fixes, as the eval's ground truth names it"
    )
    evidence: EvidenceView = Field(
        "text",
        description="how a reviewer is shown a finding's evidence: labels (given and suggested, class probabilities, "
        "nearest rows), duplicates (the kept row and a word diff), overlap (the benchmark item, shared words marked), "
        "edit (a cell's text before and after), or text (the row)",
    )
    evidence_fields: list[EvidenceField] = Field(
        default_factory=list, description="the tool's own evidence fields, shown after its view"
    )
    layouts: list[Literal["plain", "chat", "instruction"]] | None = Field(
        None,
        description="the text layouts planners offer it on (None: any); a recipe may still run it on any data",
    )
    threshold: str | None = Field(
        None, description="the parameter its findings' scores are cut at (a line on report.html's score chart)"
    )
    coverage: Callable[[dict[str, Any]], Coverage] | None = Field(
        None,
        exclude=True,
        description="for a contamination tool: what a run with these parameters checked and did not (the card)",
    )
    params_model: type[BaseModel] = Field(exclude=True)
    run: Callable[[Dataset, Any, ToolContext], ToolResult] = Field(exclude=True)
    plan_hint: Callable[[dict[str, Any], int], PlanHint] | None = Field(None, exclude=True)

    def params_schema(self) -> dict[str, Any]:
        return self.params_model.model_json_schema()

    def describe(self) -> dict[str, Any]:
        return {**self.model_dump(), "params": self.params_schema()}
