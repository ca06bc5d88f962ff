"""A dataset card written from the ledger: every number in it is counted from the ledger's versions, decisions,
edits, proposals and exports (`CardFacts`), then rendered as a Hugging Face dataset card (a YAML header
`huggingface_hub.DatasetCard` parses, and Markdown). What the ledger does not record, the card says it does not know;
what only a person can say (licence, description, intended use) comes from `CardText`, or stays a marked
placeholder. Paths are written relative to the card, labels by name."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from copilot.core.markdown import code, md
from copilot.ledger import ExportInfo, Ledger, VersionInfo
from curation_tools.benchmark_files import parse_spec
from curation_tools.label_names import named_label
from curation_tools.registry import available_tools
from curation_tools.schema import ActionType, Coverage


class DecisionFacts(BaseModel):
    decision_id: int
    tool: str
    tool_version: str
    params: dict[str, Any]
    models: dict[str, str] = Field(default_factory=dict)
    """the models behind the tool's findings, by role (e.g. the embedder label-errors chose for the data's size)"""
    decided_by: str
    approved: int
    rejected: int
    status: str
    edits: int
    edits_by_issue_action: dict[str, int]
    """'issue / action' -> edits"""


class ContaminationFacts(BaseModel):
    decision_id: int
    benchmarks: list[str]
    layers: str
    found: int
    removed: int
    kept: int
    status: str
    not_checked: list[str]


class CardFacts(BaseModel):
    name: str
    source_path: str
    source_format: str
    source_sha256: str
    columns: list[str]
    task: str
    rows_in: int
    rows_out: int
    current_version: int
    versions: list[VersionInfo]
    decisions: list[DecisionFacts]
    contamination: list[ContaminationFacts]
    label_changes: list[tuple[str, str, int]]
    """(from, to, rows), applied decisions only, most rows first"""
    label_names: dict[str, str]
    """class (as text) -> its name, where a column names coded labels"""
    cell_edits: list[tuple[str, str, int]]
    """(tool, column, cells edited), applied decisions only (a relabel's name column counts here too)"""
    synthetic_rows: dict[str, int]
    """generator ('method model prompt vN') -> rows added, applied decisions only"""
    llm_models: list[str]
    """the generators of synthetic rows that came from an LLM"""
    judged_findings: int
    """findings that carry an LLM judge's verdict (the ledger does not record the judge's model)"""
    curated_exports: list[ExportInfo]
    """exports of the current version, newest last"""
    guidance: list[dict[str, Any]] = Field(default_factory=list)
    """the person's guidance in force (report.guidance_records)"""


def _task(ledger: Ledger) -> str:
    roles = ledger.roles
    if roles.label and roles.text:
        return "text-classification"
    if roles.label:
        return "tabular-classification"
    return "text" if roles.text else "tabular"


def _contamination(decision: DecisionFacts, coverage: Coverage, found: int, applied: bool) -> ContaminationFacts:
    drops = sum(n for key, n in decision.edits_by_issue_action.items() if key.endswith(" / drop"))
    return ContaminationFacts(
        decision_id=decision.decision_id,
        benchmarks=[str(b) for b in decision.params.get("benchmark", [])],
        layers="; ".join(coverage.checked),
        found=found,
        removed=drops if applied else 0,
        kept=decision.rejected,
        status=decision.status,
        not_checked=coverage.not_checked,
    )


def guidance_records(ledger: Ledger) -> list[dict[str, Any]]:
    """The guidance in force, rule by rule, with its words, source, parser and constraints in words."""
    return [
        {
            "rule_id": r.rule_id,
            "source": r.source,
            "words": r.words,
            "parser": r.parser,
            "added_by": r.added_by,
            "constraints": r.guidance.describe(),
        }
        for r in ledger.guidance_rules()
    ]


def guidance_lines(rules: list[dict[str, Any]]) -> list[str]:
    """Markdown bullets of the guidance in force (report.md and the card)."""
    lines = []
    for r in rules:
        said = f' ("{md(r["words"])}")' if r["words"] else ""
        for constraint in r["constraints"]:
            lines.append(f"- {md(constraint)}: from the {r['source']}{said}, read by {code(r['parser'])}")
    return lines


def card_facts(ledger: Ledger) -> CardFacts:
    versions = ledger.versions()
    head = ledger.head()
    specs = available_tools()
    decisions, contamination, models, judged = [], [], set(), 0
    cell_edits: Counter[tuple[str, str]] = Counter()
    label_changes: Counter[tuple[str, str]] = Counter()
    synthetic: Counter[str] = Counter()
    for info in ledger.decisions():
        proposal = ledger.proposal(info.proposal_id)
        edits = ledger.edits_of(info.decision_id)
        facts = DecisionFacts(
            decision_id=info.decision_id,
            tool=info.tool,
            tool_version=proposal.tool_version,
            params=proposal.params,
            models=proposal.models,
            decided_by=info.decided_by,
            approved=info.approved,
            rejected=info.rejected,
            status=info.status,
            edits=len(edits),
            edits_by_issue_action=dict(Counter(f"{e.issue} / {e.action.value}" for e in edits)),
        )
        decisions.append(facts)
        judged += sum(bool(getattr(f.evidence, "judge", None)) for f in proposal.findings)
        spec = specs.get(info.tool)
        if spec is not None and spec.coverage is not None:  # a contamination check: the tool says what it covered
            coverage = spec.coverage(proposal.params)
            contamination.append(_contamination(facts, coverage, len(proposal.findings), info.status == "applied"))
        if info.status != "applied":
            continue
        origins = {f.finding_id: f.action.origin or {} for f in proposal.findings}
        for edit in edits:
            if edit.action == ActionType.relabel:
                label_changes[(str(edit.old_value), str(edit.new_value))] += 1
            elif edit.action == ActionType.edit_cell:
                cell_edits[(info.tool, str(edit.column))] += 1
            elif edit.action == ActionType.add_rows:
                origin = origins.get(edit.finding_id, {})
                generator = " ".join(str(origin[k]) for k in ("method", "model") if origin.get(k)) or "unrecorded"
                if origin.get("prompt_version"):
                    generator += f" prompt v{origin['prompt_version']}"
                if origin.get("method") == "llm" and origin.get("model"):
                    models.add(str(origin["model"]))
                synthetic[generator] += 1
    return CardFacts(
        name=Path(ledger.source.path).name,
        source_path=ledger.source.path,
        source_format=ledger.source.format,
        source_sha256=ledger.source.sha256,
        columns=ledger.data_columns,
        task=_task(ledger),
        rows_in=versions[0].n_rows,
        rows_out=next(v.n_rows for v in versions if v.version_id == head),
        current_version=head,
        versions=versions,
        decisions=decisions,
        contamination=contamination,
        label_changes=[(a, b, n) for (a, b), n in sorted(label_changes.items(), key=lambda kv: (-kv[1], kv[0]))],
        label_names={**ledger.label_names(1), **ledger.label_names()},
        cell_edits=[(tool, column, n) for (tool, column), n in sorted(cell_edits.items())],
        synthetic_rows=dict(synthetic),
        llm_models=sorted(models),
        judged_findings=judged,
        curated_exports=[e for e in ledger.exports() if e.version_id == head],
        guidance=guidance_records(ledger),
    )


def _benchmark(spec: str, card_dir: Path) -> str:
    """A benchmark spec (`PATH[:FIELDS]`) with its path relative to the card."""
    path, fields = parse_spec(spec)
    return _relative(str(path), card_dir) + (f":{fields}" if fields else "")


def _portable(params: dict[str, Any], card_dir: Path) -> dict[str, Any]:
    """A tool run's parameters with the benchmark files it was given named relative to the card."""
    if not params.get("benchmark"):
        return params
    return {**params, "benchmark": [_benchmark(str(b), card_dir) for b in params["benchmark"]]}


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "n>1M"


class CardText(BaseModel):
    """What only a person can say of the data: given by `curate card --license/--description/--intended-use`, or
    left as placeholders the card marks."""

    license: str | None = None
    description: str | None = None
    intended_use: str | None = None


TODO = "**To be written:**"


def _relative(path: str, card_dir: Path) -> str:
    """A path as seen from the card's folder where the file lies within it, else the file's name alone: no
    machine's absolute path in a card that travels (the hashes beside say which file it is)."""
    target, folder = Path(path).resolve(), card_dir.resolve()
    return str(target.relative_to(folder)) if target.is_relative_to(folder) else target.name


def render_card(facts: CardFacts, card_dir: Path, text: CardText | None = None) -> str:
    text = text or CardText()
    curated = facts.curated_exports[-1] if facts.curated_exports else None

    def label(value: str) -> str:
        return named_label(value, facts.label_names.get(value))

    header = {
        "license": text.license or "unknown",
        "pretty_name": f"{facts.name} (curated)",
        "task_categories": [facts.task],
        "size_categories": [_size_category(facts.rows_out)],
        "source_datasets": [facts.name],
        "tags": ["curated", "curation-copilot"],
        "curation": {
            "source_sha256": facts.source_sha256,
            "rows_in": facts.rows_in,
            "rows_out": facts.rows_out,
            "version": facts.current_version,
            "curated_sha256": curated.sha256 if curated else None,
            "decisions_applied": sum(d.status == "applied" for d in facts.decisions),
            "decisions_undone": sum(d.status != "applied" for d in facts.decisions),
        },
    }
    lines = ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(), "---", ""]
    lines += [
        f"# {md(facts.name)} (curated)",
        "",
        md(text.description) if text.description else f"{TODO} what the data is (`curate card --description TEXT`).",
        "",
        "## Intended use",
        "",
        md(text.intended_use)
        if text.intended_use
        else f"{TODO} what the data is for, and not for (`curate card --intended-use TEXT`).",
        "",
        "## Licence",
        "",
        f"{code(text.license)}."
        if text.license
        else f"{TODO} the licence (`curate card --license ID`); `unknown` for now.",
        "",
        "## How it was curated",
        "",
        "Written by `curate card` from the curation ledger: every number below is counted from its versions,",
        "decisions, edits and exports.",
        "",
        "### Source",
        "",
        f"- file: {code(_relative(facts.source_path, card_dir))} ({facts.source_format}), "
        f"sha256 `{facts.source_sha256}`",
        f"- columns: {', '.join(code(c) for c in facts.columns)}; task: {facts.task}",
        f"- rows: {facts.rows_in} in, {facts.rows_out} in the current version (v{facts.current_version})",
        "",
        "### Version lineage",
        "",
        "| version | parent | rows | made | note |",
        "|---|---|---|---|---|",
    ]
    for v in facts.versions:
        parent = f"v{v.parent_id}" if v.parent_id else "-"
        lines.append(f"| v{v.version_id} | {parent} | {v.n_rows} | {v.created_at} | {md(v.note)} |")
    lines += [
        "",
        "### Guidance",
        "",
        *(guidance_lines(facts.guidance) or ["None given: the tools' defaults and the review decided."]),
        "",
        "### Decisions",
        "",
        "| # | tool | tool version | decided by | approved | rejected | status | edits |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for d in facts.decisions:
        lines.append(
            f"| {d.decision_id} | {md(d.tool)} | {d.tool_version} | {md(d.decided_by)} | {d.approved} | {d.rejected} | "
            f"{d.status} | {d.edits} |"
        )
    lines += ["", "Edits by issue and action:", "", "| # | tool | issue / action | edits |", "|---|---|---|---|"]
    for d in facts.decisions:
        lines += [f"| {d.decision_id} | {md(d.tool)} | {md(key)} | {n} |" for key, n in d.edits_by_issue_action.items()]
    lines += ["", "Parameters of each decision's tool run:", ""]
    lines += [
        f"- #{d.decision_id} {md(d.tool)}: {code(json.dumps(_portable(d.params, card_dir), sort_keys=True))}"
        + "".join(f"; {md(role)}: {code(model)}" for role, model in sorted(d.models.items()))
        for d in facts.decisions
    ]
    lines += ["", "### Contamination", ""]
    if not facts.contamination:
        lines.append("No benchmark was checked. Whether this data holds benchmark items is not known.")
    for c in facts.contamination:
        lines += [
            f"- decision #{c.decision_id} ({c.status}): searched "
            f"{', '.join(code(_benchmark(b, card_dir)) for b in c.benchmarks)} by "
            f"{c.layers}. Found {c.found} rows holding benchmark items; removed {c.removed}, kept {c.kept}.",
            f"  Not checked: {'; '.join(c.not_checked)}.",
        ]
    lines += ["", "### Label changes", ""]
    if facts.label_changes:
        lines += ["| from | to | rows |", "|---|---|---|"]
        lines += [
            f"| {code(label(a), cell=True)} | {code(label(b), cell=True)} | {n} |" for a, b, n in facts.label_changes
        ]
    else:
        lines.append("No label was changed.")
    lines += ["", "### Cell edits", ""]
    if facts.cell_edits:
        lines += ["| tool | column | cells edited |", "|---|---|---|"]
        lines += [f"| {md(tool)} | {code(column, cell=True)} | {n} |" for tool, column, n in facts.cell_edits]
    else:
        lines.append("No cell was edited.")
    lines += ["", "### Synthetic rows", ""]
    if facts.synthetic_rows:
        lines += ["| generator | rows |", "|---|---|"] + [f"| {md(k)} | {n} |" for k, n in facts.synthetic_rows.items()]
    else:
        lines.append("None: every row comes from the source file.")
    lines += ["", "### LLM use", ""]
    lines.append(
        "Synthetic rows were written by: " + ", ".join(code(m) for m in facts.llm_models) + "."
        if facts.llm_models
        else "No synthetic row came from an LLM."
    )
    lines.append(
        f"{facts.judged_findings} findings carry an LLM judge's verdict in their evidence (the ledger does not record "
        "the judge's model)."
        if facts.judged_findings
        else "No finding carries an LLM judge's verdict."
    )
    lines += ["", "### The curated file", ""]
    lines.append(
        f"v{facts.current_version} was exported to {code(_relative(curated.path, card_dir))}, sha256 "
        f"`{curated.sha256}` ({curated.at})."
        if curated
        else f"v{facts.current_version} has not been exported yet (`curate export`)."
    )
    return "\n".join(lines) + "\n"
