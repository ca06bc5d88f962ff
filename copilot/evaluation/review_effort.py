"""`curate eval --suite review-effort`: how many decisions a reviewer needs to reach 90% of the real errors among a
tool's findings, taking them in static order (most certain first) or from the queue that learns from each decision
(`copilot.review.learning`). The simulated reviewer approves exactly the findings on rows the ground truth holds as
errors (MTurk-verified on IMDB and 20 Newsgroups; planted flips elsewhere). Errors the tool did not find cannot be
reached in any order: the 90% is of the errors in the queue, and the row says how many of all the errors that is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from copilot.core.config import Settings
from copilot.evaluation.builders import build
from copilot.evaluation.suite import Suite, write_results
from copilot.review.learning import ReviewQueue, decisions_to_reach, queue_of
from curation_tools.context import ToolContext
from curation_tools.io import load_dataset
from curation_tools.registry import get_tool, run_tool
from curation_tools.roles import RoleOverrides

QUEUES: dict[str, Callable[[ReviewQueue], list[str]]] = {
    "static": lambda q: [fid for fid in q.ids if fid not in q.decisions],
    "adaptive": lambda q: q.order(),
}
TOOL = "label-errors"


def run_review_effort(suite: Suite, out_dir: Path, progress: Callable[[str], object] = print) -> list[dict[str, Any]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    results = []
    for task in suite.tasks:
        built = build(task.source, task.plants, task.seed, out_dir / "tasks" / task.name / "data")
        data, _ = load_dataset(built.train, RoleOverrides(id="row_id", label="label", text=["text"]))
        spec = get_tool(TOOL)
        ctx = ToolContext(cache_dir=settings.cache_dir, seed=task.seed, embedder_spec=settings.embedder)
        findings = [(TOOL, f) for f in run_tool(spec, data, spec.params_model(), ctx).proposal.findings]
        errors = built.truth.label_flips
        truth = {f.finding_id for _, f in findings if f.row_id in errors}
        static_n = None
        for queue, order_of in QUEUES.items():
            needed = decisions_to_reach(order_of, truth, queue_of(findings))
            static_n = needed if queue == "static" else static_n
            row = {
                "task": task.name,
                "queue": queue,
                "rows": len(data),
                "errors": len(errors),
                "findings": len(findings),
                "errors_in_queue": len(truth),
                "decisions_to_90pct": needed,
                "ratio_to_static": round(needed / static_n, 3) if needed and static_n else None,
            }
            results.append(row)
            progress(
                f"{task.name} / {queue}: {needed} decisions to 90% of {len(truth)} errors among {len(findings)} "
                f"findings ({len(errors)} errors in {len(data)} rows)"
            )
    write_results(out_dir, suite.name, results, results_table(suite.name, results))
    return results


def results_table(suite: str, results: list[dict[str, Any]]) -> str:
    lines = [
        f"# Eval results: suite `{suite}`",
        "",
        "Decisions a reviewer needs to approve 90% of the real errors among the findings: static order (most certain "
        "first) against the queue that learns from each decision.",
        "",
        "| task | rows | errors | findings | errors in queue | static | adaptive | adaptive / static |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task in dict.fromkeys(r["task"] for r in results):
        by = {r["queue"]: r for r in results if r["task"] == task}
        s, a = by["static"], by["adaptive"]
        lines.append(
            f"| {task} | {s['rows']} | {s['errors']} | {s['findings']} | {s['errors_in_queue']} "
            f"| {s['decisions_to_90pct']} | {a['decisions_to_90pct']} | {a['ratio_to_static']} |"
        )
    ratios = [r["ratio_to_static"] for r in results if r["queue"] == "adaptive" and r["ratio_to_static"]]
    if ratios:
        lines += ["", f"Mean adaptive / static over {len(ratios)} tasks: {sum(ratios) / len(ratios):.3f}."]
    return "\n".join(lines) + "\n"
