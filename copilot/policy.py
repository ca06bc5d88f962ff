"""Approval policies: who decides a proposal's findings when no person is watching.

A policy is an ordered list of rules (first match wins) on tool, issue, action and score, plus a
default. Built-ins: `approve-all`, `conservative` (only high-certainty actions: exact duplicates, split
leaks, verbatim contamination; the rest is rejected and listed) and `review` (every finding waits for
a person). A YAML file with the same shape is a custom policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from curation_tools.errors import UserInputError
from curation_tools.schema import Finding

Verdict = Literal["approve", "reject", "ask"]


class Rule(BaseModel):
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
    name: str
    rules: list[Rule] = Field(default_factory=list)
    default: Verdict = "ask"

    def decide(self, tool: str, finding: Finding) -> Verdict:
        for rule in self.rules:
            if rule.matches(tool, finding):
                return rule.decision
        return self.default


BUILTIN: dict[str, Policy] = {
    "approve-all": Policy(name="approve-all", default="approve"),
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


def load_policy(spec: str) -> Policy:
    """A built-in name or a YAML file of rules."""
    if spec in BUILTIN:
        return BUILTIN[spec]
    path = Path(spec)
    if not path.is_file():
        raise UserInputError(
            f"Unknown policy '{spec}': use one of {', '.join(BUILTIN)} or the path of a policy YAML file."
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Policy.model_validate({"name": path.name, **raw})
    except (yaml.YAMLError, ValidationError, TypeError) as error:
        raise UserInputError(f"{path}: not a valid policy file: {error}") from None
