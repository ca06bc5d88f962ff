"""Approval policies: who decides a proposal's findings when no person is watching.

A policy is an ordered list of rules (first match wins) on tool, issue, action and score, plus a
default, and what an approved flag does (`flags`: keep the row as it is and list it in flagged.jsonl,
drop it, or relabel it to the tool's suggestion). Built-ins: `approve-all` (approved flags drop their
row), `conservative` (only high-certainty actions: exact duplicates, split leaks, verbatim
contamination; the rest is rejected and listed) and `review` (every finding waits for a person). A YAML
file with the same shape is a custom policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.core.decisions import FindingDecision, policy_decider
from copilot.core.guidance import Guidance
from copilot.core.yaml_files import read_yaml_mapping
from curation_tools.errors import UserInputError
from curation_tools.schema import ActionType, Finding
from curation_tools.validation import explain

Verdict = Literal["approve", "reject", "ask"]
FlagAction = Literal["keep", "drop", "relabel"]
FLAG_ACTIONS: tuple[FlagAction, ...] = ("keep", "drop", "relabel")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt key would silently widen what gets approved

    tool: str | None = None
    issue: str | None = None
    action: str | None = None
    min_score: float = Field(0.0, ge=0, le=1)
    decision: Verdict

    def matches(self, tool: str, finding: Finding) -> bool:
        return (
            (self.tool is None or self.tool == tool)
            and (self.issue is None or self.issue == finding.issue)
            and (self.action is None or self.action == finding.action.type.value)
            and finding.score >= self.min_score
        )


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    rules: list[Rule] = Field(default_factory=list)
    default: Verdict = "ask"
    flags: FlagAction = Field(
        "keep",
        description="what an approved flag does: keep the row (listed in flagged.jsonl), drop it, or relabel it "
        "to the suggested label (a flag without a suggestion is kept)",
    )

    guidance: Guidance | str | None = Field(
        None, description="the person's constraints: a typed block (see Guidance) or words the guidance parser reads"
    )

    def decide(self, tool: str, finding: Finding) -> Verdict:
        for rule in self.rules:
            if rule.matches(tool, finding):
                return rule.decision
        return self.default


class PolicyReviewer:
    """A policy as a Reviewer: its rules approve or reject; "ask" leaves the finding to the next reviewer."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.name = policy_decider(policy.name)

    def decide(self, tool: str, finding: Finding) -> FindingDecision | None:
        verdict = self.policy.decide(tool, finding)
        if verdict == "ask":
            return None
        decision = FindingDecision(finding_id=finding.finding_id, approve=verdict == "approve", decided_by=self.name)
        if decision.approve and finding.action.type == ActionType.flag:
            if self.policy.flags == "drop":
                decision.drop_row = True
            elif self.policy.flags == "relabel" and finding.evidence.suggested_label is not None:
                decision.new_label = finding.evidence.suggested_label
        return decision


BUILTIN: dict[str, Policy] = {
    # approving a flag agrees the row's label is wrong without a reliable fix: in a run nobody reads, the row
    # goes (listed in changes.jsonl, undoable) rather than training on a label both sides doubt
    "approve-all": Policy(name="approve-all", default="approve", flags="drop"),
    "conservative": Policy(
        name="conservative",
        rules=[
            Rule(issue="exact_duplicate", decision="approve"),
            Rule(issue="split_leak", min_score=0.99, decision="approve"),
            Rule(issue="contamination", min_score=0.95, decision="approve"),
        ],
        default="reject",
    ),
    "review": Policy(name="review", default="ask"),
}


def load_policy(spec: str, flags: str | None = None) -> Policy:
    """A built-in name or a YAML file of rules; `flags`, when given, replaces what its approved flags do."""
    policy = _read_policy(spec)
    if flags is None:
        return policy
    if flags not in FLAG_ACTIONS:
        raise UserInputError(f"--flags must be one of {', '.join(FLAG_ACTIONS)}, not '{flags}'.")
    return policy.model_copy(update={"flags": flags})


def _read_policy(spec: str) -> Policy:
    if spec in BUILTIN:
        return BUILTIN[spec]
    path = Path(spec)
    if not path.is_file():
        raise UserInputError(
            f"Unknown policy '{spec}': use one of {', '.join(BUILTIN)} or the path of a policy YAML file."
        )
    raw = read_yaml_mapping(path, "policy")
    try:
        return Policy.model_validate({"name": path.name, **raw})
    except ValidationError as error:
        raise UserInputError(f"{path}: not a valid policy file: {explain(error, Policy)}.") from None
