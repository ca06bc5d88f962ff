"""The `curate` command line: a thin client over the tools, the ledger and (later) the Session API."""

from __future__ import annotations

import difflib
import errno
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.markup import escape as esc
from rich.panel import Panel

from copilot import __version__
from copilot.cli.chat import chat as chat_command
from copilot.cli.console import err, fail, out
from copilot.cli.data_options import (
    FeaturesOpt,
    IdOpt,
    LabelOpt,
    SepOpt,
    SplitOpt,
    TextOpt,
    WorkspaceOpt,
    load_from_flags,
)
from copilot.cli.evaluate import eval_app
from copilot.cli.llm import llm_app
from copilot.cli.run import run as run_command
from copilot.cli.tools import run_with_progress, tools_group
from copilot.core.config import Settings
from copilot.core.decisions import HUMAN, Decision, FindingDecision
from copilot.core.findings_file import read_findings, write_findings
from copilot.core.output_paths import check_output, check_output_folder
from copilot.ledger import Ledger, OperationResult, default_workspace
from curation_tools.benchmark_files import parse_spec
from curation_tools.errors import UserInputError
from curation_tools.registry import available_tools
from curation_tools.text import natural_key

app = typer.Typer(
    name="curate",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    help="Curate training and evaluation data: find label errors, duplicates and benchmark leaks, "
    "review each proposed change, and keep every edit traceable and undoable.",
)

DataArg = Annotated[Path, typer.Argument(help="data file: .csv, .tsv, .jsonl (optionally .gz) or .parquet")]
OptDataArg = Annotated[Path | None, typer.Argument(help="the data file whose workspace to use")]


def _ledger(data: Path | None, workspace: Path | None) -> Ledger:
    if workspace is None and data is None:
        raise UserInputError("Name the data file (or its --workspace) whose ledger to use.")
    return Ledger(workspace or default_workspace(data))  # type: ignore[arg-type]


@app.command()
def scan(
    data: DataArg,
    id: IdOpt = None,
    text: TextOpt = None,
    label: LabelOpt = None,
    features: FeaturesOpt = None,
    split: SplitOpt = None,
    sep: SepOpt = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="folder for profile.json and one findings file per tool")
    ] = None,
    benchmark: Annotated[
        list[str] | None,
        typer.Option("--benchmark", help="benchmark file PATH[:FIELDS|PRESET] to check contamination against"),
    ] = None,
) -> None:
    """Profile a dataset and run every applicable tool with default settings. Changes nothing."""
    values = dict(data=data, id=id, text=text, label=label, features=features, split=split, sep=sep)
    dataset = load_from_flags(values)
    settings = Settings()
    if out_dir:
        names = [f"{spec.name}.json{'' if spec.output == 'report' else 'l'}" for spec in available_tools().values()]
        reads = [data, *(parse_spec(b)[0] for b in benchmark or [])]
        check_output_folder(out_dir, reads=reads, outputs=names)
        for name in names:
            check_output(out_dir / name, reads=reads)
    lines: list[str] = []
    for spec in available_tools().values():
        missing = [r for r in spec.required_roles if not getattr(dataset.roles, r)]
        if missing:
            lines.append(f"[dim]{esc(spec.name)}: skipped (needs a {', '.join(missing)} column)[/]")
            continue
        given = {"benchmark": benchmark} if benchmark and spec.benchmarks != "none" else {}
        needed = [n for n, f in spec.params_model.model_fields.items() if f.is_required() and n not in given]
        if needed:
            flags = ", ".join("--" + n.replace("_", "-") for n in needed)
            lines.append(f"[dim]{esc(spec.name)}: skipped (needs {flags})[/]")
            continue
        try:
            result = run_with_progress(
                spec, dataset, spec.params_model(**given), settings, workspace=default_workspace(data)
            )
        except UserInputError as error:  # one tool that cannot run on this data does not end the scan
            lines.append(f"[dim]{esc(spec.name)}: skipped ({esc(str(error))})[/]")
            continue
        if out_dir:
            out_dir.mkdir(parents=True, exist_ok=True)
            if spec.output == "report":
                (out_dir / f"{spec.name}.json").write_text(json.dumps(result.report, indent=2, default=str))
            else:
                write_findings(result, dataset, out_dir / f"{spec.name}.jsonl")
        counts = result.proposal.counts_by_issue()
        found = ", ".join(f"{n} {issue}" for issue, n in counts.items())
        lines.append(f"[bold]{esc(spec.name)}[/] ({result.elapsed_s:.1f}s): {esc(found or result.proposal.summary)}")
        if spec.role == "report":
            lines.extend(esc(line) for line in _report_lines(result.report))
    where = f"\nFindings written to {esc(str(out_dir))}/" if out_dir else ""
    out.print(Panel("\n".join(lines) + where, title=f"curate scan: {esc(data.name)}", expand=False))


def _report_lines(report: dict) -> list[str]:
    """A report tool's headline figures (the profile's keys, where the report has them)."""
    lines = [f"  rows {report['n_rows']}, columns {report['n_columns']}"] if "n_rows" in report else []
    if labels := report.get("labels"):
        largest = ", ".join(f"{k} {v}" for k, v in list(labels["counts"].items())[:5])
        lines.append(
            f"  labels: {labels['n_classes']} classes, imbalance {labels['imbalance_ratio']:.1f}x (largest: {largest})"
        )
        if labels.get("unlabelled"):
            lines.append(f"  unlabelled: {labels['unlabelled']} rows (no label; no tool learns from or proposes one)")
        if mixed := labels.get("mixed_kinds"):
            lines.append(
                f"  mixed labels: {mixed['names']} rows named, {mixed['numbers']} numbered: two encodings? "
                "label-errors will not run until they are one"
            )
    if length := report.get("text_length"):
        lines.append(
            f"  text: mean {length['chars_mean']:.0f} chars (median {length['chars_median']:.0f}, "
            f"max {length['chars_max']}), {length['empty']} empty"
        )
    if dups := report.get("duplicates"):
        lines.append(
            f"  exact duplicates: {dups['redundant_rows']} redundant rows in {dups['groups']} groups, "
            f"{dups['conflicting_label_groups']} with conflicting labels"
        )
    if splits := report.get("splits"):
        lines.append(f"  splits: {splits['counts']}; shared texts: {splits['overlap']}")
    return lines


def _print_op(result: OperationResult) -> None:
    verb = {"apply": "Applied", "undo": "Undid", "redo": "Redid"}[result.op]
    err.print(
        f"{verb} decision #{result.decision_id}: {len(result.edits)} edits, "
        f"v{result.version_before} -> v{result.version_after}"
        + (f", {result.rejected} rejected" if result.rejected else "")
    )
    for conflict in result.conflicts:
        err.print(f"  [yellow]conflict[/] row {esc(conflict.row_id)}: {esc(conflict.reason)}")
    for note in result.notes:
        err.print(f"  [yellow]not restored[/] {esc(note)}")


def _check_row_ids(chosen: set[str], finding_rows: list[str], option: str) -> None:
    """Every id given must be a row of the findings: a mistyped id would otherwise approve (--reject) or reject
    (--only) everything silently."""
    known = set(finding_rows)
    unknown = sorted(chosen - known, key=natural_key)
    if not unknown:
        return
    hints = []
    for row in unknown[:5]:
        near = difflib.get_close_matches(row, sorted(known), n=2, cutoff=0.6)
        hints.append(f"'{row}'" + (f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""))
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    raise UserInputError(
        f"{option}: {len(unknown)} row id(s) have no finding in this file: {', '.join(hints)}{more}. "
        "Nothing was applied."
    )


@app.command()
def apply(
    data: DataArg,
    findings: Annotated[Path, typer.Argument(help="findings JSONL written by `curate tools NAME ... --out`")],
    reject: Annotated[
        str | None, typer.Option(help="row ids to reject, comma-separated; the rest are approved")
    ] = None,
    only: Annotated[str | None, typer.Option(help="approve only these row ids, comma-separated")] = None,
    by: Annotated[str, typer.Option(help="who decided (recorded in the ledger)")] = HUMAN,
    reason: Annotated[str, typer.Option(help="why (recorded in the ledger)")] = "",
    id: IdOpt = None,
    text: TextOpt = None,
    label: LabelOpt = None,
    features: FeaturesOpt = None,
    split: SplitOpt = None,
    sep: SepOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Approve a findings file (all rows, or --only / --reject some) and apply it as a new version."""
    dataset = load_from_flags(
        dict(data=data, id=id, text=text, label=label, features=features, split=split, sep=sep), quiet=True
    )
    ledger = Ledger.open_or_create(workspace or default_workspace(data), dataset)
    proposal = read_findings(findings, dataset)
    if only and reject:
        raise UserInputError("Give --only or --reject, not both.")
    chosen = {r.strip() for r in (only or reject or "").split(",") if r.strip()}
    _check_row_ids(chosen, [f.row_id for f in proposal.findings], "--only" if only else "--reject")
    findings = {
        f.finding_id: FindingDecision(
            finding_id=f.finding_id,
            approve=(f.row_id in chosen) if only else (f.row_id not in chosen),
            decided_by=by,
            reason=reason,
        )
        for f in proposal.findings
    }
    decision = Decision(proposal_id=proposal.proposal_id, findings=findings, reason=reason)
    _print_op(ledger.apply(proposal, decision))
    for note in ledger.forget_applied():
        err.print(f"  {esc(note)}")


@app.command()
def log(data: OptDataArg = None, workspace: WorkspaceOpt = None) -> None:
    """List the versions and the decisions (who, when, why, how many edits)."""
    ledger = _ledger(data, workspace)
    head = ledger.head()
    out.print("[bold]versions[/]")
    for v in ledger.versions():
        name = f"v{v.version_id}" + (" (current)" if v.version_id == head else "")
        out.print(f"  {name:<14}{v.n_rows:>9,} rows  {_when(v.created_at)}  {esc(v.note)}")
    out.print("[bold]decisions[/]")
    for d in ledger.decisions():
        conflicts = f" · {len(d.conflicts)} conflicts" if d.conflicts else ""
        out.print(
            f"  #{d.decision_id} {esc(d.tool)} · {d.status} · {d.approved} approved, {d.rejected} rejected · "
            f"{d.n_edits} edits{conflicts}"
        )
        why = f": {esc(d.reason)}" if d.reason else ""
        out.print(f"     by {esc(d.decided_by)} at {_when(d.decided_at)}{why}")


def _when(stamp: str) -> str:
    """An ISO time as a person reads it in a log: 2026-12-04 16:52 (UTC)."""
    return stamp[:16].replace("T", " ")


@app.command()
def diff(
    data: OptDataArg = None,
    a: Annotated[int | None, typer.Option("--from", help="version number (default: the one before --to)")] = None,
    b: Annotated[int | None, typer.Option("--to", help="version number (default: current)")] = None,
    workspace: WorkspaceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the diff as JSON")] = False,
    limit: Annotated[int, typer.Option(help="lines shown per kind of change")] = 50,
) -> None:
    """What changed between two versions: rows removed, rows added, cells changed."""
    ledger = _ledger(data, workspace)
    to = b or ledger.head()
    result = ledger.diff(a or max(1, to - 1), to)
    if as_json:
        out.print_json(result.model_dump_json())
        return
    out.print(
        f"v{result.version_a} -> v{result.version_b}: {len(result.removed)} removed, "
        f"{len(result.added)} added, {len(result.changed)} cells changed"
    )

    def text(row: str) -> str:
        return f"  “{esc(_snippet(result.texts[row]))}”" if row in result.texts else ""

    for row in result.removed[:limit]:
        out.print(f"  [red]- {esc(row)}[/]{text(row)}")
    _more(len(result.removed), limit, "removed rows")
    for row in result.added[:limit]:
        out.print(f"  [green]+ {esc(row)}[/]{text(row)}")
    _more(len(result.added), limit, "added rows")
    for change in result.changed[:limit]:
        cell = f"{change.column}: {change.old!r} -> {change.new!r}"
        out.print(f"  [yellow]~ {esc(change.row_id)}[/] {esc(cell)}{text(change.row_id)}")
    _more(len(result.changed), limit, "changed cells")


def _more(count: int, limit: int, what: str) -> None:
    if count > limit:
        out.print(f"  ... and {count - limit:,} more {what} (--limit N shows more, --json all)")


@app.command()
def explain(
    row_id: Annotated[str, typer.Argument(help="the row id (the --id value, or the 0-based row position)")],
    data: OptDataArg = None,
    workspace: WorkspaceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the history as JSON")] = False,
) -> None:
    """Why a row was dropped, relabelled or added: every edit with who decided and the evidence."""
    history = _ledger(data, workspace).explain(row_id)
    if as_json:
        out.print_json(history.model_dump_json())
        return
    state = "present in the current version" if history.present else "not in the current version"
    out.print(f"row {esc(history.row_id)}: {state}")
    if history.text is not None:
        out.print(f"  text{'' if history.present else ' (when it was removed)'}: “{esc(_snippet(history.text, 200))}”")
    if not history.events:
        out.print("  no decision has touched this row")

    def shown(value: Any) -> str:  # a coded label with its name: 62 (order_physical_card)
        name = history.label_names.get(str(value))
        return f"{value!r} ({name})" if name is not None and name != str(value) else repr(value)

    for e in history.events:
        change = f"{e.column}: {shown(e.old_value)} -> {shown(e.new_value)}" if e.column else e.action
        undone = " [dim](undone)[/]" if e.op_status == "undone" else ""
        out.print(f"  #{e.decision_id} {esc(e.tool)} {esc(e.issue)} (score {e.score:.2f}): {esc(change)}{undone}")
        out.print(f"     decided by {esc(e.decided_by)} at {e.decided_at}" + (f": {esc(e.reason)}" if e.reason else ""))
        if e.message:
            out.print(f"     {esc(e.message)}")
        for line in _evidence_lines(e.evidence, shown):
            out.print(f"     {esc(line)}")


def _evidence_lines(evidence: dict[str, Any], shown: Callable[[Any], str]) -> list[str]:
    """What a finding points to, in words: the kept row of a duplicate, the benchmark item a row copies."""
    lines = []
    if evidence.get("duplicate_of") is not None:
        kept = f": “{_snippet(evidence['kept_text'], 200)}”" if evidence.get("kept_text") else ""
        lines.append(f"kept row {evidence['duplicate_of']}{kept}")
    if evidence.get("benchmark") is not None:
        item = f"{evidence['benchmark']} item {evidence.get('benchmark_item')}"
        text = f": “{_snippet(evidence['benchmark_text'], 200)}”" if evidence.get("benchmark_text") else ""
        lines.append(f"benchmark {item}{text}")
    if evidence.get("suggested_label") is not None and evidence.get("suggested_confidence") is not None:
        lines.append(
            f"the models: {shown(evidence['suggested_label'])} at {evidence['suggested_confidence']:.0%}, "
            f"given {shown(evidence.get('given_label'))}"
        )
    return lines


@app.command()
def undo(
    data: OptDataArg = None,
    decision: Annotated[int | None, typer.Option(help="decision number (default: the latest applied)")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Revert a decision as a new version (later edits to the same rows are reported as conflicts)."""
    _print_op(_ledger(data, workspace).undo(decision))


@app.command()
def redo(
    data: OptDataArg = None,
    decision: Annotated[int | None, typer.Option(help="decision number (default: the latest undone)")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Re-apply an undone decision as a new version."""
    _print_op(_ledger(data, workspace).redo(decision))


@app.command()
def export(
    data: OptDataArg = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out", help="output file; its extension picks the format (default: <name>.curated.<ext> beside the input)"
        ),
    ] = None,
    version: Annotated[int | None, typer.Option(help="version number (default: current)")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the current (or a chosen) version as a data file. The input file is never modified."""
    ledger = _ledger(data, workspace)
    if out_path is None:
        source = Path(ledger.source.path)
        suffix = "".join(source.suffixes)
        out_path = source.with_name(source.name[: -len(suffix)] + ".curated" + suffix)
    written = ledger.export(out_path, version)  # refuses the input, the workspace and other runs' files
    err.print(f"Wrote v{version or ledger.head()} to {esc(str(written))}")


AUDIT_ITEMS_SHOWN = 5
SNIPPET = 60


def _snippet(text: str, limit: int = SNIPPET) -> str:
    """A text on one line, cut at `limit` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@app.command()
def audit(
    data: OptDataArg = None,
    benchmark: Annotated[
        list[str],
        typer.Option("--benchmark", help="the new benchmark file PATH[:FIELDS|PRESET] (repeatable)"),
    ] = ...,  # type: ignore[assignment]
    workspace: WorkspaceOpt = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="findings file of the drops proposed on the current version (default: "
            "audit_findings.jsonl in the workspace)",
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the whole audit (every version's items and rows) as JSON")
    ] = None,
) -> None:
    """Check every version in the ledger, and every file exported from it, against a benchmark that appeared later;
    propose dropping the rows that hold its items from the current version. Changes nothing."""
    from copilot.cli.console import progress_bars
    from copilot.outputs.audit import audit as run_audit
    from curation_tools.context import ToolContext

    ledger = _ledger(data, workspace)
    reads = [ledger.source.path, *(parse_spec(b)[0] for b in benchmark)]
    for path, flag in ((out_path, "--out"), (json_out, "--json")):
        if path is not None:
            check_output(path, reads=reads, owner=ledger.run_folder(), what=flag)
    settings = Settings()
    with progress_bars() as bars:
        ctx = ToolContext(
            cache_dir=settings.cache_dir,
            progress=bars,
            embedder_spec=settings.embedder,
            engine_spec=settings.engine_spec,
            workspace=ledger.root,
        )
        report = run_audit(ledger, benchmark, ctx)
    out.print(f"[bold]benchmark items per version[/] ({esc(', '.join(benchmark))})")
    for v in report.versions:
        name = f"v{v.version_id}" + (" (current)" if v.version_id == report.current_version else "")
        out.print(f"  {name:<14}{v.n_rows:>9,} rows  {esc(v.note)}: {v.contaminated_rows} row(s) hold items")
        for h in v.items[:AUDIT_ITEMS_SHOWN]:
            out.print(f"      item {esc(h.item)} “{esc(_snippet(h.text))}” in row(s) {esc(', '.join(h.rows))}")
        if len(v.items) > AUDIT_ITEMS_SHOWN:
            out.print(f"      and {len(v.items) - AUDIT_ITEMS_SHOWN} more item(s) (--json lists every one)")
    if json_out:
        json_out.write_text(report.model_dump_json(indent=2))
        err.print(f"Every version's items and rows: {esc(str(json_out))}")
    if report.exports:
        out.print("[bold]exported files[/]")
        for e in report.exports:
            out.print(
                f"  {esc(e.export.path)}  sha256 {e.export.sha256[:12]}  v{e.export.version_id}: "
                f"{e.contaminated_rows} row(s) hold items"
            )
    target = out_path or ledger.root / "audit_findings.jsonl"
    write_findings(report.proposal, ledger.dataset(), target)
    n = len(report.proposal.findings)
    hint = f"curate apply {esc(ledger.source.path)} {esc(str(target))} --workspace {esc(str(ledger.root))}"
    err.print(
        f"{n} row(s) of v{report.current_version} hold benchmark items; the drops are proposed in {esc(str(target))}"
        + (f". Approve them with: {hint}" if n else ".")
    )


@app.command()
def card(
    data: OptDataArg = None,
    workspace: WorkspaceOpt = None,
    out_path: Annotated[
        Path, typer.Option("--out", help="where to write the card (Markdown with a YAML header)")
    ] = Path("README.md"),
    license: Annotated[
        str | None, typer.Option("--license", help="the data's licence, as a Hub licence id (e.g. cc-by-4.0)")
    ] = None,
    description: Annotated[str | None, typer.Option(help="what the data is, in a sentence or two")] = None,
    intended_use: Annotated[str | None, typer.Option(help="what the data is for, and not for")] = None,
) -> None:
    """Write a Hugging Face dataset card from the ledger: source and hash, versions, every decision, the
    contamination checks, label changes, synthetic rows, LLM use and the curated file's hash. Licence, description
    and intended use come from the flags, or stay marked placeholders."""
    from copilot.outputs.card import CardText, card_facts, render_card
    from curation_tools.atomic_files import write_text_atomic

    ledger = _ledger(data, workspace)
    check_output(out_path, reads=[ledger.source.path], owner=ledger.run_folder())
    text = CardText(license=license, description=description, intended_use=intended_use)
    write_text_atomic(out_path, render_card(card_facts(ledger), out_path.resolve().parent, text))
    err.print(f"Wrote the dataset card of v{ledger.head()} to {esc(str(out_path))}")


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="a run folder (curate run/chat --out) or a workspace folder")],
    out_path: Annotated[
        Path | None, typer.Option("--out", help="where to write it (default: FOLDER/report.html)")
    ] = None,
) -> None:
    """Rebuild report.html, the visual report of what changed and why, for a run or a workspace."""
    from copilot.outputs.report_html import write_report_html

    root = folder / "workspace" / "ledger" if (folder / "workspace" / "ledger").is_dir() else folder
    ledger = Ledger(root)
    if out_path is not None:
        check_output(out_path, reads=[ledger.source.path], owner=ledger.run_folder())
    written = write_report_html(ledger, out_path or folder / "report.html", Path(ledger.source.path).name)
    err.print(f"Wrote {esc(str(written))} (v{ledger.head()}, {ledger.n_rows()} rows)")


def version_callback(value: bool) -> None:
    if value:
        out.print(f"curate {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Curate training and evaluation data with deterministic tools and an approval loop."""


@app.command()
def review(
    folder: Annotated[Path, typer.Argument(help="a run folder waiting for decisions (curate run exited 3)")],
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="write only this sheet: a .html page or a .csv (default: both, in the folder)"),
    ] = None,
) -> None:
    """Write review sheets of a waiting run's findings: review.html (open it in a browser, decide, export
    decisions.json) and review.csv (fill in `decision` and `new_label`); then
    `curate run --resume DIR --decisions decisions.json` (or the filled-in .csv)."""
    from copilot.review.page import page_data, write_review_html
    from copilot.review.sheet import write_review_csv
    from copilot.run.session import Session  # lazy: LangGraph

    if out_path is not None and out_path.suffix.lower() not in (".html", ".csv"):
        raise UserInputError(f"--out {out_path}: a review sheet is a .html or a .csv file.")
    session = Session.resume(folder)
    if out_path is not None:
        check_output(out_path, reads=[session.config.data], owner=folder)
    if not session.pending:
        raise UserInputError(f"{folder}: no finding waits for a decision; nothing to review.")
    details = session.pending_details()
    shown = {d.row_id for d in details} | {n.row_id for d in details for n in d.evidence.neighbours or []}
    texts, displays, names = session.row_texts(shown), session.evidence_displays(), session.label_names()
    written = []
    if out_path is None or out_path.suffix.lower() == ".html":
        data = page_data(
            details,
            run_dir=folder,
            texts=texts,
            displays=displays,
            classes=session.label_classes(),
            names=names,
            label_column=session.label_column(),
        )
        written.append(write_review_html(data, out_path or folder / "review.html"))
    if out_path is None or out_path.suffix.lower() == ".csv":
        sheet = out_path or folder / "review.csv"
        written.append(write_review_csv(details, sheet, session.label_column(), displays, texts, names))
    err.print(
        f"{len(session.pending)} finding(s) in {' and '.join(map(str, written))}.\n"
        "In the page: decide (a/r, l for a label), then export decisions.json; in the CSV: fill in decision "
        f"(approve/reject) and new_label. Then: curate run --resume {folder} --decisions FILE",
        markup=False,
    )


app.command("run")(run_command)
app.command("chat")(chat_command)
app.add_typer(eval_app, name="eval")
app.add_typer(llm_app, name="llm")


def main() -> None:
    command = typer.main.get_command(app)
    command.add_command(tools_group(), "tools")  # type: ignore[attr-defined]
    try:
        command.main(prog_name="curate", standalone_mode=True)
    except UserInputError as error:
        fail(str(error), error.exit_code)
    except OSError as error:  # an unwritable, missing or wrong-kind path the user named (or the cache folder)
        where = f"{error.filename}: " if error.filename else ""
        full = error.errno == errno.ENOSPC or "[Errno 28]" in str(error)
        fail(
            f"{where}{error.strerror or error}. "
            + (
                "The disk is full: free space and run the command again (files are written whole, so nothing "
                "half-written was left)."
                if full
                else "Check that the path exists, is a folder where a folder is meant, and is writable; or choose "
                "another one (--out, --workspace, CURATE_CACHE_DIR)."
            )
        )
    except sqlite3.DatabaseError as error:  # a cache or checkpoint database the layers above did not name
        fail(
            f"A curate database could not be used ({error}). If the disk is full or read-only, free space or make "
            f"it writable and run the command again; if a file was damaged, remove the cache (CURATE_CACHE_DIR)."
        )
    except click.exceptions.Exit as done:  # --help of the plain click commands under `tools`
        raise SystemExit(done.exit_code) from None
    except click.ClickException as error:  # usage errors of the plain click commands under `tools`
        error.show()
        raise SystemExit(error.exit_code) from None
