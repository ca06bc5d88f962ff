"""The Python API for notebooks: load data, run tools, look at findings as a DataFrame, approve by mask, apply,
undo and export, on the same workspace and ledger the `curate` commands use.

    from copilot import Curator

    cur = Curator("examples/support_tickets.csv", workspace="runs/nb")
    found = cur.find("dedup")                       # one row per finding, pending
    cur.apply(approve=found["score"] >= 0.9)        # the rest of dedup's findings are rejected; one decision
    cur.undo()                                      # or cur.redo(), cur.history(), cur.data, cur.export(path)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from copilot.core.config import Settings
from copilot.core.decisions import HUMAN, Decision, FindingDecision
from copilot.ledger import Ledger, OperationResult, default_workspace
from curation_tools.context import ToolContext
from curation_tools.errors import UserInputError
from curation_tools.io import load_dataset
from curation_tools.label_names import named_label
from curation_tools.registry import available_tools, run_tool
from curation_tools.roles import RoleOverrides
from curation_tools.schema import Finding, Proposal

FINDING_COLUMNS = [
    "tool",
    "row_id",
    "text",
    "issue",
    "score",
    "action",
    "given",
    "suggested",
    "confidence",
    "message",
    "duplicate_of",
    "kept_text",
    "benchmark",
    "benchmark_item",
    "benchmark_text",
]
"""One frame for every tool, as cleanlab's Datalab.get_issues() gives one: the row's text, labels by name (a coded
label as "name (code)"), the model's confidence in its suggestion, and what a finding points to (the kept row of a
duplicate, the benchmark item a row copies); a column a finding has nothing for is empty."""


@dataclass(frozen=True, repr=False)
class Outcome:
    """An apply, undo or redo as a line: the decision, its tool, edits, conflicts and versions. The whole ledger
    result (every edit) is `.result`."""

    result: OperationResult
    tool: str

    def __repr__(self) -> str:
        r = self.result
        rejected = f", {r.rejected} rejected" if r.rejected else ""
        return (
            f"<{r.op} decision #{r.decision_id} ({self.tool}): {len(r.edits)} edits{rejected}, "
            f"{len(r.conflicts)} conflicts, v{r.version_before} -> v{r.version_after}>"
        )

    def __getattr__(self, name: str) -> Any:  # decision_id, edits, conflicts, rejected: the ledger result's
        return getattr(self.result, name)


class Curator:
    """One dataset's curation from Python. Tools only propose: `find` returns the findings, nothing changes until
    `apply` records a decision (with who decided) in the ledger, which `undo` can revert."""

    def __init__(
        self,
        data: str | Path,
        *,
        text: str | list[str] | None = None,
        label: str | None = None,
        id: str | None = None,
        features: list[str] | None = None,
        sep: str | None = None,
        workspace: str | Path | None = None,
        settings: Settings | None = None,
    ) -> None:
        overrides = RoleOverrides(id=id, text=[text] if isinstance(text, str) else text, label=label, features=features)
        self.source, self.role_notes = load_dataset(data, overrides, sep)
        self.settings = settings or Settings()
        self.ledger = Ledger.open_or_create(
            Path(workspace) if workspace else default_workspace(Path(data)), self.source
        )
        self._pending: dict[str, Proposal] = {}

    # ---- looking --------------------------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The current version's rows, indexed by row id."""
        return self.ledger.dataset().frame

    @property
    def tools(self) -> list[str]:
        return sorted(available_tools())

    def history(self) -> pd.DataFrame:
        """One row per decision: tool, who decided, approved, rejected, edits, status."""
        return pd.DataFrame([d.model_dump(exclude={"conflicts"}) for d in self.ledger.decisions()])

    @property
    def findings(self) -> pd.DataFrame:
        """Every pending finding (found, not yet applied), indexed by finding id: see FINDING_COLUMNS."""
        data = self.ledger.dataset()
        texts = data.texts().to_dict() if data.roles.text else {}
        names = self.ledger.label_names()
        rows = [self._row(p.tool, f, texts, names) for p in self._pending.values() for f in p.findings]
        return pd.DataFrame(rows, columns=["finding_id", *FINDING_COLUMNS]).set_index("finding_id")

    @staticmethod
    def _row(tool: str, finding: Finding, texts: dict[str, str], names: dict[str, str]) -> dict[str, Any]:
        e, action = finding.evidence, finding.action

        def named(label: Any) -> str | None:
            return None if label is None else named_label(label, names.get(str(label)))

        suggested = action.new_label if action.new_label is not None else e.suggested_label
        return {
            "finding_id": finding.finding_id,
            "tool": tool,
            "row_id": finding.row_id,
            "text": texts.get(finding.row_id),
            "issue": finding.issue,
            "score": finding.score,
            "action": action.type.value,
            "given": named(e.given_label),
            "suggested": named(suggested) if suggested is not None else action.new_value,
            "confidence": e.suggested_confidence,
            "message": finding.message,
            "duplicate_of": e.duplicate_of,
            "kept_text": e.kept_text,
            "benchmark": e.benchmark,
            "benchmark_item": e.benchmark_item,
            "benchmark_text": e.benchmark_text,
        }

    # ---- finding --------------------------------------------------------------------------------------------
    def find(self, tool: str, **params: Any) -> pd.DataFrame:
        """Run one tool on the current version with these parameters; its findings become pending (replacing the
        tool's earlier pending ones) and are returned."""
        specs = available_tools()
        if tool not in specs:
            raise UserInputError(f"Unknown tool '{tool}'. Known: {', '.join(sorted(specs))}.")
        spec = specs[tool]
        ctx = ToolContext(
            cache_dir=self.settings.cache_dir,
            embedder_spec=self.settings.embedder,
            engine_spec=self.settings.engine_spec,
            workspace=self.ledger.root,
        )
        result = run_tool(spec, self.ledger.dataset(), spec.params_model(**params), ctx)
        self._pending = {k: p for k, p in self._pending.items() if p.tool != tool}
        self._pending[result.proposal.proposal_id] = result.proposal
        return self.findings[lambda frame: frame["tool"] == tool]

    # ---- deciding -------------------------------------------------------------------------------------------
    def apply(
        self, approve: pd.Series | list[str] | None = None, *, by: str = HUMAN, reason: str = ""
    ) -> list[Outcome]:
        """Decide pending findings and apply each tool's proposal as one ledger decision. `approve`: a boolean
        Series (a mask, e.g. `found["score"] >= 0.9` over one tool's `find`), or finding ids; None approves every
        pending finding. Only the tools the mask or ids come from are decided, whole: their findings not approved
        are recorded as rejected; other tools' findings stay pending."""
        pending = set(self._pending_ids())
        if approve is None:
            chosen, covered = pending, pending
        elif isinstance(approve, pd.Series) and approve.dtype == bool:
            covered = set(approve.index)
            if unknown := covered - pending:
                raise UserInputError(f"The mask names {len(unknown)} finding id(s) that are not pending.")
            chosen = set(approve.index[approve.to_numpy()])
        else:
            chosen = covered = set(approve)
            if unknown := chosen - pending:
                raise UserInputError(f"Not pending: {', '.join(sorted(unknown)[:5])}.")
        results = []
        for proposal in list(self._pending.values()):
            if not covered & {f.finding_id for f in proposal.findings}:
                continue  # another tool's findings: not what this mask or list is about
            decided = {
                f.finding_id: FindingDecision(
                    finding_id=f.finding_id, approve=f.finding_id in chosen, decided_by=by, reason=reason
                )
                for f in proposal.findings
            }
            decision = Decision(proposal_id=proposal.proposal_id, findings=decided, reason=reason)
            results.append(Outcome(self.ledger.apply(proposal, decision), proposal.tool))
            del self._pending[proposal.proposal_id]
        self.ledger.forget_applied()
        return results

    def _pending_ids(self) -> list[str]:
        return [f.finding_id for p in self._pending.values() for f in p.findings]

    def undo(self, decision_id: int | None = None, *, by: str = HUMAN) -> Outcome:
        result = self.ledger.undo(decision_id, by=by)
        return Outcome(result, self._tool(result.decision_id))

    def redo(self, decision_id: int | None = None, *, by: str = HUMAN) -> Outcome:
        result = self.ledger.redo(decision_id, by=by)
        return Outcome(result, self._tool(result.decision_id))

    def _tool(self, decision_id: int) -> str:
        return next(d.tool for d in self.ledger.decisions() if d.decision_id == decision_id)

    def export(self, path: str | Path, version: int | None = None) -> Path:
        """Write the current (or a chosen) version; the extension picks the format."""
        return self.ledger.export(Path(path), version)
