"""A contamination audit of a ledger's past: which versions, and which exported files, held items of a benchmark
that appeared after they were made, and the drops to propose on the current version.

Every version's rows are scanned in one decontam run: rows are the same across versions unless an edit changed
them, so the distinct (row, text) pairs of all versions are checked once and each version's hits are looked up.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel

from copilot.ledger import ExportInfo, Ledger
from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, Roles
from curation_tools.decontam import DecontamParams, plan_hint
from curation_tools.decontam import run as run_decontam
from curation_tools.profile import profile_dataset
from curation_tools.schema import Finding, ToolResult
from curation_tools.text import content_key


class ItemHit(BaseModel):
    benchmark: str
    item: str
    """the item's id in the benchmark file (its id field), or its 0-based line where it has none"""
    text: str
    """the item's text, as the benchmark holds it"""
    rows: list[str]


class VersionAudit(BaseModel):
    version_id: int
    n_rows: int
    note: str
    contaminated_rows: int
    items: list[ItemHit]


class ExportAudit(BaseModel):
    export: ExportInfo
    contaminated_rows: int
    items: int


class AuditReport(BaseModel):
    benchmarks: list[str]
    versions: list[VersionAudit]
    exports: list[ExportAudit]
    current_version: int
    proposal: ToolResult
    """decontam's findings on the current version: the drops to approve (`curate apply`)"""


def _pair_key(row_id: str, text: str) -> str:
    return f"{row_id}\x00{content_key(text)}"


def audit_params(benchmarks: list[str], data: Dataset) -> DecontamParams:
    """decontam's parameters as a run would choose them for this data (its plan hint): on short rows verbatim
    matching only, since a short query reworded is just another query of the same intent."""
    profile = profile_dataset(data).model_dump()
    return DecontamParams(benchmark=benchmarks, **plan_hint(profile, 0).params)


def audit(ledger: Ledger, benchmarks: list[str], ctx: ToolContext) -> AuditReport:
    versions = ledger.versions()
    datasets = {v.version_id: ledger.dataset(v.version_id) for v in versions}
    distinct: dict[str, tuple[str, str]] = {}
    for data in datasets.values():
        for row_id, text in data.texts().items():
            distinct.setdefault(_pair_key(str(row_id), text), (str(row_id), text))
    keys = list(distinct)
    head = datasets[ledger.head()]
    params = audit_params(benchmarks, head)
    union = pd.DataFrame({"text": [distinct[k][1] for k in keys]}, index=pd.Index(keys, name=head.frame.index.name))
    scanned = run_decontam(Dataset(frame=union, roles=Roles(text=["text"]), source=head.source), params, ctx)
    hits: dict[str, Finding] = {f.row_id: f for f in scanned.findings}
    audits = []
    for info in versions:
        data = datasets[info.version_id]
        found = [
            (str(row_id), hits[key])
            for row_id, text in data.texts().items()
            if (key := _pair_key(str(row_id), text)) in hits
        ]
        by_item: dict[tuple[str, str, str], list[str]] = {}
        for row_id, finding in found:
            e = finding.evidence
            by_item.setdefault((e.benchmark, str(e.benchmark_item), e.benchmark_text or ""), []).append(row_id)
        audits.append(
            VersionAudit(
                version_id=info.version_id,
                n_rows=info.n_rows,
                note=info.note,
                contaminated_rows=len(found),
                items=[ItemHit(benchmark=b, item=i, text=t, rows=rows) for (b, i, t), rows in sorted(by_item.items())],
            )
        )
    by_version = {a.version_id: a for a in audits}
    exports = [
        ExportAudit(
            export=e,
            contaminated_rows=by_version[e.version_id].contaminated_rows,
            items=len(by_version[e.version_id].items),
        )
        for e in ledger.exports()
        if e.version_id in by_version
    ]
    current = run_decontam(head, params, ctx)  # exactly what `curate tools decontam` proposes on it
    proposal = current.proposal.model_copy(update={"summary": f"audit: {current.proposal.summary}"})
    return AuditReport(
        benchmarks=params.benchmark,
        versions=audits,
        exports=exports,
        current_version=ledger.head(),
        proposal=current.model_copy(update={"proposal": proposal}),
    )
