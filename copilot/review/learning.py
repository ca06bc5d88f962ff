"""Review that learns: each decision re-ranks what is still pending, and a run of like rejections becomes a proposed
rule the person can accept as guidance.

Findings are alike when the same tool raised the same issue and, more so, when they share a class pair (given ->
suggested label), a duplicate cluster or a benchmark item, or have close scores. A pending finding's rank is its
estimated chance of approval: its place in the static order (most certain first) as a prior, moved by the decisions
on findings like it (approved: up, rejected: down), weighted by how alike they are. Nothing here decides anything:
the order is a suggestion, a rule becomes guidance only when the person accepts it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel

from copilot.core.guidance import Guidance
from curation_tools.schema import ActionType, Finding
from curation_tools.text import natural_key

PRIOR_WEIGHT = 1.0  # the static order counts as much as one identical decision
SCORE_SCALE = 0.05  # scores this far apart are about a third as alike
RULE_MIN_REJECTED = 6  # "you rejected 6 of 7 ..."
RULE_MIN_SHARE = 0.8


class Likeness(BaseModel):
    """What makes two findings alike."""

    tool: str
    issue: str
    pair: tuple[str, str] | None = None  # given -> suggested label
    group: str | None = None  # duplicate cluster or benchmark item
    score: float


def likeness(tool: str, finding: Finding) -> Likeness:
    ev, action = finding.evidence, finding.action
    suggested = action.new_label if action.type == ActionType.relabel else ev.suggested_label
    pair = (str(ev.given_label), str(suggested)) if ev.given_label is not None and suggested is not None else None
    group = ev.duplicate_of or ev.cluster_id or ev.benchmark_item
    return Likeness(tool=tool, issue=finding.issue, pair=pair, group=group, score=finding.score)


class RuleSuggestion(BaseModel):
    """A rule the decisions so far suggest, in words, with the guidance it would become."""

    key: str
    text: str
    guidance: Guidance
    rejected: int
    decided: int


@dataclass
class ReviewQueue:
    """Pending findings in static order (most certain first); `decide` records an answer, `order` ranks the rest."""

    items: Sequence[tuple[str, Likeness]]
    decisions: dict[str, bool] = field(default_factory=dict)
    declined: set[str] = field(default_factory=set)  # rule keys the person said no to

    def __post_init__(self) -> None:
        self.ids = [fid for fid, _ in self.items]
        self.index = {fid: i for i, fid in enumerate(self.ids)}
        like = [item for _, item in self.items]
        keys = {key: n for n, key in enumerate(dict.fromkeys(f"{x.tool}|{x.issue}" for x in like))}
        pairs = {p: n for n, p in enumerate(dict.fromkeys(x.pair for x in like if x.pair))}
        groups = {g: n for n, g in enumerate(dict.fromkeys(x.group for x in like if x.group))}
        self.kind = np.array([keys[f"{x.tool}|{x.issue}"] for x in like])
        self.pair = np.array([pairs[x.pair] if x.pair else -1 for x in like])
        self.group = np.array([groups[x.group] if x.group else -1 for x in like])
        self.score = np.array([x.score for x in like], dtype=float)
        n = len(like)
        self.prior = 1.0 - np.arange(n) / max(n, 1)  # the static order as a prior chance of approval
        self.evidence = np.zeros(n)  # sum of similarity x (+1 approved, -1 rejected)
        self.weight = np.zeros(n)  # sum of similarity

    def similarity(self, i: int) -> np.ndarray:
        """How alike finding i is to every finding (0: another tool or issue)."""
        same_kind = self.kind == self.kind[i]
        sim = 0.2 + 0.5 * np.exp(-np.abs(self.score - self.score[i]) / SCORE_SCALE)
        if self.pair[i] >= 0:
            sim = sim + 1.0 * (self.pair == self.pair[i])
        if self.group[i] >= 0:
            sim = sim + 1.0 * (self.group == self.group[i])
        return np.where(same_kind, sim, 0.0)

    def decide(self, finding_id: str, approved: bool) -> None:
        if finding_id in self.decisions:
            self.undo(finding_id)
        i = self.index[finding_id]
        sim = self.similarity(i)
        self.evidence += sim * (1.0 if approved else -1.0)
        self.weight += sim
        self.decisions[finding_id] = approved

    def undo(self, finding_id: str) -> None:
        approved = self.decisions.pop(finding_id)
        sim = self.similarity(self.index[finding_id])
        self.evidence -= sim * (1.0 if approved else -1.0)
        self.weight -= sim

    def chance(self) -> np.ndarray:
        """Each finding's estimated chance of approval: the prior moved toward its like findings' answers."""
        share = (self.evidence / np.maximum(self.weight, 1e-9) + 1.0) / 2.0  # -1..1 -> 0..1
        return (PRIOR_WEIGHT * self.prior + self.weight * share) / (PRIOR_WEIGHT + self.weight)

    def order(self) -> list[str]:
        """The undecided findings, likeliest approval first (ties: the static order)."""
        chance = self.chance()
        left = [i for i, fid in enumerate(self.ids) if fid not in self.decisions]
        return [self.ids[i] for i in sorted(left, key=lambda i: (-round(float(chance[i]), 9), i))]

    def suggestion(self) -> RuleSuggestion | None:
        """A rule the rejections so far call for, while findings it would settle are still pending."""
        groups: dict[str, list[int]] = {}
        for fid in self.ids:
            i = self.index[fid]
            like = self.items[i][1]
            key = f"{like.tool}|{like.issue}|{'>'.join(like.pair) if like.pair else ''}"
            groups.setdefault(key, []).append(i)
        for key, members in groups.items():
            if key in self.declined:
                continue
            decided = [self.ids[i] for i in members if self.ids[i] in self.decisions]
            rejected = sum(not self.decisions[fid] for fid in decided)
            pending = len(members) - len(decided)
            if rejected >= RULE_MIN_REJECTED and rejected >= RULE_MIN_SHARE * len(decided) and pending:
                return _rule(key, self.items[members[0]][1], rejected, len(decided))
        return None


def _rule(key: str, like: Likeness, rejected: int, decided: int) -> RuleSuggestion:
    if like.pair:
        a, b = like.pair
        text = (
            f"you rejected {rejected} of {decided} relabels from {a} to {b}: mark {a} and {b} distinct, so neither "
            f"is relabelled into the other?"
        )
        return RuleSuggestion(
            key=key, text=text, guidance=Guidance(distinct=[(a, b)]), rejected=rejected, decided=decided
        )
    issue = like.issue.replace("_", " ")
    text = f"you rejected {rejected} of {decided} {issue} findings of {like.tool}: keep the rows found as {issue}?"
    return RuleSuggestion(
        key=key, text=text, guidance=Guidance(keep_issues=[like.issue]), rejected=rejected, decided=decided
    )


def queue_of(findings: Sequence[tuple[str, Finding]]) -> ReviewQueue:
    """A queue of (tool, finding) in static order: most certain first."""
    ordered = sorted(findings, key=lambda tf: (-tf[1].score, natural_key(tf[1].row_id)))
    return ReviewQueue([(f.finding_id, likeness(tool, f)) for tool, f in ordered])


def decisions_to_reach(
    order_of: Callable[[ReviewQueue], list[str]], truth: set[str], queue: ReviewQueue, share: float = 0.9
) -> int | None:
    """Decisions a reviewer who approves exactly the findings in `truth` needs before `share` of the truth among the
    queue's findings is approved, taking each next finding from `order_of(queue)`; None if never."""
    target = share * len(truth & set(queue.ids))
    if target == 0:
        return 0
    found = 0
    for n in range(1, len(queue.ids) + 1):
        fid = order_of(queue)[0]
        approved = fid in truth
        queue.decide(fid, approved)
        found += approved
        if found >= target:
            return n
    return None
