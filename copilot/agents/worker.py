"""What a worker says about its proposal: a short explanation a reviewer reads before deciding."""

from __future__ import annotations

from collections import Counter

from curation_tools.schema import Proposal

EXAMPLES = 3


def explain_proposal(proposal: Proposal, reason: str) -> str:
    """Why the step ran, what it proposes by issue and action, and its most certain findings."""
    if not proposal.findings:
        return f"{proposal.tool} ran because {reason or 'the plan asked for it'}; it proposes no change."
    kinds = Counter((f.issue, f.action.type.value) for f in proposal.findings)
    parts = ", ".join(f"{n} {issue} ({action})" for (issue, action), n in kinds.most_common())
    top = sorted(proposal.findings, key=lambda f: -f.score)[:EXAMPLES]
    examples = "; ".join(f"row {f.row_id}: {f.message or f.issue} (score {f.score:.2f})" for f in top)
    return (
        f"{proposal.tool} ran because {reason or 'the plan asked for it'}. It proposes {parts} among the rows it "
        f"saw. Most certain: {examples}."
    )
