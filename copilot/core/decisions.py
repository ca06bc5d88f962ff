"""One decision vocabulary: a `FindingDecision` per finding (approve or reject, an optional label, who, why),
a `Decision` per proposal (every finding decided), and the `Reviewer` protocol that makes them.

Reviewers are asked in order: a policy (`policy.PolicyReviewer`) decides what its rules cover and escalates the
rest ("ask") to the next reviewer, a person in the TUI, a decisions file, or an eval's simulated reviewer. The
ledger records each finding's decision with who made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import AliasChoices, BaseModel, Field

from curation_tools.schema import Action, Evidence, Finding, JsonScalar, Proposal

# Who decided, in one vocabulary: a person (the CLI, the TUI, a decisions file, a notebook) is HUMAN unless they
# give their name (`--by`, `by=`); a policy and a simulated reviewer are named by these.
HUMAN = "human"


def policy_decider(policy_name: str) -> str:
    return f"policy:{policy_name}"


def simulated_decider(spec: str) -> str:
    return f"simulated:{spec}"


class FindingDecision(BaseModel):
    finding_id: str
    approve: bool
    new_label: JsonScalar = Field(None, description="a reviewer's label instead of the suggested one (relabels)")
    drop_row: bool = Field(False, description="approve a flag by removing its row (a policy's `flags: drop`)")
    as_flag: bool = Field(False, description="approve without the change: the row stays and is listed as a flag")
    decided_by: str = Field(validation_alias=AliasChoices("decided_by", "by"))  # "by": checkpoints before this
    reason: str = ""


class PendingFinding(BaseModel):
    """A finding that waits for the next reviewer: what the run's review node interrupts with, `Session.pending`,
    and what the TUI, the review sheets and the CLI show. Typed from the graph to the screen."""

    proposal_id: str
    tool: str
    finding_id: str
    row_id: str
    issue: str
    action: Action
    score: float
    message: str = ""

    @classmethod
    def of(cls, proposal: Proposal, finding: Finding) -> PendingFinding:
        return cls(
            proposal_id=proposal.proposal_id,
            tool=proposal.tool,
            finding_id=finding.finding_id,
            row_id=finding.row_id,
            issue=finding.issue,
            action=finding.action,
            score=finding.score,
            message=finding.message,
        )


class PendingDetail(PendingFinding):
    """A pending finding with what a person needs to decide it without other files: the row as it is now (None if
    an earlier decision removed it) and the tool's evidence. pending.json's items are these, as `record()`."""

    row: dict[str, Any] | None = None
    evidence: Evidence = Field(default_factory=Evidence)

    def record(self) -> dict[str, Any]:
        """The JSON object pending.json and the review sheets hold: the action and evidence without empty fields."""
        return {
            **self.model_dump(mode="json", exclude={"action", "evidence"}),
            "action": self.action.model_dump(mode="json", exclude_none=True),
            "evidence": self.evidence.model_dump(mode="json", exclude_none=True),
        }


class Decision(BaseModel):
    """Every finding of one proposal decided: what the ledger applies as one decision."""

    proposal_id: str
    findings: dict[str, FindingDecision]
    reason: str = ""

    @classmethod
    def uniform(
        cls,
        proposal: Proposal,
        approve: bool,
        decided_by: str,
        reason: str = "",
        overrides: Mapping[str, FindingDecision] | None = None,
    ) -> Decision:
        """The same answer for every finding, except the ones given by finding_id."""
        overrides = overrides or {}
        findings = {
            f.finding_id: overrides.get(f.finding_id)
            or FindingDecision(finding_id=f.finding_id, approve=approve, decided_by=decided_by, reason=reason)
            for f in proposal.findings
        }
        return cls(proposal_id=proposal.proposal_id, findings=findings, reason=reason)

    def deciders(self) -> str:
        """Who decided, for the decision as a whole: each decider once, sorted."""
        return ", ".join(sorted({d.decided_by for d in self.findings.values()})) or "nobody"


class ReviewDraft(BaseModel):
    """A person's review in progress, saved as they go so that quitting half-way loses nothing: their answers
    so far ('approve' | 'reject' | {"approve": true, "new_label": X}), the proposal on screen and the finding
    under the cursor."""

    format_version: int = 1
    answers: dict[str, str | dict[str, Any]] = Field(default_factory=dict)
    proposal: int = 0
    at: str | None = None
    order: list[str] = Field(default_factory=list, description="the proposal's findings as the screen ordered them")


class Reviewer(Protocol):
    """Decides a finding, or returns None to leave it to the next reviewer."""

    name: str

    def decide(self, tool: str, finding: Finding) -> FindingDecision | None: ...


def as_decision(finding_id: str, answer: Any, decided_by: str) -> FindingDecision:
    """A reviewer's answer in any of the forms clients send ('approve', 'reject', {"approve": bool,
    "new_label": X}, or a FindingDecision) as a FindingDecision."""
    if isinstance(answer, FindingDecision):
        return answer
    if answer in ("approve", "reject"):
        return FindingDecision(finding_id=finding_id, approve=answer == "approve", decided_by=decided_by)
    if isinstance(answer, Mapping) and isinstance(answer.get("approve"), bool):
        fields = {"decided_by": decided_by, **answer, "finding_id": finding_id}
        return FindingDecision.model_validate(fields)
    raise ValueError(f"a decision is 'approve', 'reject' or {{'approve': true, 'new_label': ...}}, not {answer!r}")


class AnswersReviewer:
    """Answers given up front by finding_id (a decisions file, a TUI review): None for the rest."""

    def __init__(self, answers: Mapping[str, Any], name: str = HUMAN) -> None:
        self.name = name
        self.answers = {fid: as_decision(fid, a, name) for fid, a in answers.items()}

    def decide(self, tool: str, finding: Finding) -> FindingDecision | None:
        return self.answers.get(finding.finding_id)

    def unknown(self, finding_ids: set[str]) -> list[str]:
        """Answered ids that are not among these findings (a decisions file for another run or round)."""
        return sorted(set(self.answers) - finding_ids)
