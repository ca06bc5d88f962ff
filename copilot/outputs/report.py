"""The run report and outputs: curated data, changes.jsonl, summary.json and report.md in the run folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.core.markdown import code, md
from copilot.ledger import DecisionInfo, Edit, Ledger
from copilot.outputs.card import guidance_lines, guidance_records
from curation_tools.atomic_files import write_text_atomic
from curation_tools.progress import ProgressFn, no_progress
from curation_tools.schema import ActionType

if TYPE_CHECKING:
    from copilot.run.run_config import RunConfig


def _public(value: Any) -> Any:
    """A row record without the ledger's internal columns."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not k.startswith("__")}
    return value


def curated_name(ledger: Ledger) -> str:
    suffix = {"csv": ".csv", "tsv": ".tsv", "jsonl": ".jsonl", "parquet": ".parquet"}[ledger.source.format]
    return "curated" + suffix


FLAGGED = "flagged.jsonl"
FLAG_OUTCOME = {ActionType.drop: "dropped", ActionType.relabel: "relabelled", ActionType.flag: "listed"}


def _flag_records(ledger: Ledger, info: DecisionInfo, flag_edits: list[Edit]) -> list[dict[str, Any]]:
    """Approved flags change no cell: each becomes a line of flagged.jsonl (row, tool, why, suggestion), so
    what a person or policy approved for attention is in the outputs, not only in changes.jsonl."""
    findings = {f.finding_id: f for f in ledger.proposal(info.proposal_id).findings}
    return [
        {
            "row_id": edit.row_id,
            "tool": info.tool,
            "issue": edit.issue,
            "score": edit.score,
            "message": findings[edit.finding_id].message,
            "suggested_label": findings[edit.finding_id].evidence.suggested_label,
            "decided_by": edit.decided_by,
        }
        for edit in flag_edits
        if edit.finding_id in findings
    ]


def write_outputs(
    out_dir: Path,
    ledger: Ledger,
    state: dict[str, Any],
    config: RunConfig,
    usage: dict[str, Any] | None,
    progress: ProgressFn = no_progress,
) -> dict[str, Any]:
    steps = 5 if config.html_report else 4  # a million-row run spends a minute here: say where it is
    progress("reading the decisions", 0, steps)
    changes = []
    flags: list[dict[str, Any]] = []
    flag_outcomes = {"dropped": 0, "relabelled": 0, "listed": 0}
    for info in sorted(ledger.decisions(), key=lambda d: d.decision_id):
        if info.status != "applied":
            continue
        edits = ledger.edits_of(info.decision_id)
        if flag_edits := [edit for edit in edits if edit.action == ActionType.flag]:
            flags += _flag_records(ledger, info, flag_edits)
        flagged = {f.finding_id for f in ledger.proposal(info.proposal_id).findings if f.action.type == ActionType.flag}
        for edit in edits:
            if edit.finding_id in flagged and edit.action != ActionType.edit_cell:  # a relabel's name column: once
                flag_outcomes[FLAG_OUTCOME[edit.action]] += 1
        for edit in edits:
            changes.append(
                {
                    "row_id": edit.row_id,
                    "action": edit.action.value,
                    "tool": info.tool,
                    "issue": edit.issue,
                    "score": edit.score,
                    "decided_by": edit.decided_by or info.decided_by,
                    "column": edit.column,
                    "old_value": _public(edit.old_value),
                    "new_value": _public(edit.new_value),
                }
            )
    progress(f"writing {curated_name(ledger)}", 1, steps)
    ledger.export(out_dir / curated_name(ledger))
    progress("writing changes.jsonl", 2, steps)
    write_text_atomic(out_dir / "changes.jsonl", "".join(json.dumps(c, default=str) + "\n" for c in changes))
    dropped = {c["row_id"] for c in changes if c["action"] == ActionType.drop.value}
    flags = [f for f in flags if f["row_id"] not in dropped]  # a flagged row a later step dropped is gone
    write_text_atomic(out_dir / FLAGGED, "".join(json.dumps(f, default=str) + "\n" for f in flags))
    rows_in = ledger.n_rows(1)
    rows_out = ledger.n_rows()
    summary = {
        "status": state.get("status", "finished"),
        "data": config.data,
        "planner": config.planner if config.recipe.plan == "auto" else "recipe",
        "policy": config.policy.name,
        "seed": config.seed,
        "rows_in": rows_in,
        "rows_out": rows_out,
        "rounds": state.get("round", 0),
        "planned_by": state.get("planned_by", []),
        "goal": config.goal,
        "guidance": guidance_records(ledger),
        "steps": state.get("outcomes", []),
        "changes": {
            action: sum(c["action"] == action for c in changes) for action in sorted({c["action"] for c in changes})
        },
        "flagged": len(flags),
        "approved_flags": {**flag_outcomes, "listed": len(flags)},
        "notes": state.get("notes", []),
        "decided_by": ledger.deciders(),
        "llm_usage": usage,
    }
    progress("writing report.md", 3, steps)
    write_text_atomic(out_dir / "report.md", _report(summary, out_dir / curated_name(ledger)))
    if config.html_report:
        from copilot.outputs.report_html import write_report_html

        progress("writing report.html", 4, steps)
        write_report_html(ledger, out_dir / "report.html", Path(config.data).name)
    # last: a summary says the outputs beside it are whole (a full disk before here leaves the previous one)
    write_text_atomic(out_dir / "summary.json", json.dumps(summary, indent=2, default=str))
    progress("outputs written", steps, steps)
    return summary


def _planned_by(rounds: list[dict[str, Any]]) -> list[str]:
    """Which planner made each round: an LLM-planned run says where the model's plan was replaced."""
    if not rounds:
        return []
    return ["- planned by: " + "; ".join(f"round {r['round']} {md(r['planner'])}" for r in rounds)]


def _flags_line(summary: dict[str, Any]) -> str:
    """What became of the approved flags: the policy's (or a person's) choice, said where the count is."""
    became = summary.get("approved_flags") or {"listed": summary["flagged"]}
    dropped, relabelled, listed = (became.get(k, 0) for k in ("dropped", "relabelled", "listed"))
    return (
        f"- approved flags: **{dropped}** dropped, **{relabelled}** relabelled to the suggestion, **{listed}** kept "
        f"unchanged and listed for a person to look at in `{FLAGGED}` (what an approved flag does is the policy's "
        f"`flags:` choice, or `curate run --flags`)"
    )


def _report(summary: dict[str, Any], curated: Path) -> str:
    lines = [
        "# Curation run report",
        "",
        f"- data: {code(summary['data'])} ({summary['rows_in']} rows in, {summary['rows_out']} rows out)",
        f"- status: **{md(summary['status'])}**, {summary['rounds']} round(s), planner {code(summary['planner'])}, "
        f"policy {code(summary['policy'])}, seed {summary['seed']}",
        *_planned_by(summary.get("planned_by", [])),
        f"- curated data: `{curated.name}`; every change with its tool, score and decider: `changes.jsonl`",
        _flags_line(summary),
        *(
            ["", "Guidance in force (every edit was checked against it):", "", *guidance_lines(summary["guidance"])]
            if summary.get("guidance")
            else []
        ),
        "",
        "| round | tool | findings | approved | rejected | edits applied | summary |",
        "|---|---|---|---|---|---|---|",
    ]
    for step in summary["steps"]:
        lines.append(
            f"| {step['round']} | {md(step['tool'])} | {step['findings']} | {step['approved']} | {step['rejected']} "
            f"| {step['applied_edits']} | {md(step['summary'])} |"
        )
    for step in summary["steps"]:
        if step.get("explanation"):
            lines += ["", f"- round {step['round']}, {md(step['explanation'])}"]
    if summary["changes"]:
        lines += ["", "Changes: " + ", ".join(f"{n} {a}" for a, n in summary["changes"].items()) + "."]
    if summary["decided_by"]:
        who = "; ".join(
            f"{code(by)} approved {n['approved']}, rejected {n['rejected']}" for by, n in summary["decided_by"].items()
        )
        lines += ["", f"Decided by: {who} (each finding's decider is in `changes.jsonl` and `curate explain`)."]
    for note in summary["notes"]:
        lines.append(f"\nNote: {md(note)}")
    if summary["llm_usage"]:
        u = summary["llm_usage"]
        lines.append(
            f"\nLLM: {u['calls']} calls ({u.get('failed_calls', 0)} failed), {u['prompt_tokens']} prompt + "
            f"{u['completion_tokens']} completion tokens, ${u['cost_usd']:.4f}."
        )
        if u.get("degraded"):
            lines.append(f"\n**The run went offline:** {md(u['degraded'])}")
        for judge, outcome in u.get("judge_probes", {}).items():
            lines.append(f"\nJudge probes ({md(judge)}): {md(outcome)}.")
    lines.append("\nUndo any decision with `curate undo` on the run's workspace (`--workspace DIR/workspace/ledger`).")
    return "\n".join(lines) + "\n"
