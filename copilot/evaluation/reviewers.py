"""Simulated reviewers: they answer a session's pending findings from the task's ground truth."""

from __future__ import annotations

import random

from copilot.core.decisions import FindingDecision, simulated_decider
from copilot.evaluation.builders import Truth
from curation_tools.schema import ActionType, Finding


def is_right(finding: Finding, truth: Truth) -> bool:
    """Would a perfect curator apply this finding? Drops of planted copies/leaks, relabels to the right label."""
    row = finding.row_id
    action = finding.action.type.value
    if action == "drop":
        return row in truth.duplicates or row in truth.leaks
    if action == "relabel":
        return truth.label_flips.get(row) == str(finding.action.new_label)
    return False  # flags change nothing: approving them is harmless but not needed


class SimulatedReviewer:
    """A Reviewer that knows the ground truth: `oracle` (exactly the right findings), `approve-all` (every finding,
    an approved flag dropping its row as the built-in approve-all policy does), or `noisy:P` (the oracle, wrong
    with probability P). Its decisions are recorded as made by `simulated:SPEC`."""

    def __init__(self, spec: str, truth: Truth, seed: int = 0) -> None:
        self.spec = spec
        self.name = simulated_decider(spec)
        self.truth = truth
        self.rng = random.Random(seed)
        if spec.startswith("noisy:"):
            self.error = float(spec.split(":", 1)[1])
            if not 0 <= self.error <= 1:
                raise ValueError("noisy:P needs 0 <= P <= 1")
        elif spec in ("oracle", "approve-all"):
            self.error = 0.0
        else:
            raise ValueError(f"unknown reviewer '{spec}': oracle, approve-all or noisy:P")

    def decide(self, tool: str, finding: Finding) -> FindingDecision:
        if self.spec == "approve-all":
            drop_row = finding.action.type == ActionType.flag
            return FindingDecision(finding_id=finding.finding_id, approve=True, drop_row=drop_row, decided_by=self.name)
        right = is_right(finding, self.truth)
        if self.rng.random() < self.error:
            right = not right
        return FindingDecision(finding_id=finding.finding_id, approve=right, decided_by=self.name)
