"""`curate eval --suite guidance`: tasks where the person's words change the right outcome (keep intended
paraphrases, protect a class, two classes distinct, only flag, a benchmark named in words, a row scope). Each task
runs with no guidance, with its documented phrasing read by the offline parser, and (with an endpoint) with the same
wish in plain words read by the LLM. A run *follows* the guidance when the words became exactly the expected
constraints and no applied edit breaks them; the no-guidance row shows that the words change what a run does."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from copilot.core.config import Settings
from copilot.core.guidance import Guidance, edit_refusal, normalised
from copilot.evaluation.builders import BuiltTask, build
from copilot.evaluation.scoring import score
from copilot.evaluation.suite import Suite, Task, write_results
from copilot.review.policy import load_policy
from copilot.run.guidance_setup import GuidanceRefused
from copilot.run.run_config import RunConfig
from copilot.run.session import Session
from curation_tools.roles import RoleOverrides


def systems_for(settings: Settings) -> list[str]:
    """No guidance, the documented phrasing offline, the plain words offline (followed or refused, never
    ignored), and the plain words read by the LLM where an endpoint is configured."""
    llm = [f"llm:{settings.model}"] if settings.llm_configured else []
    return ["no-guidance", "offline", "offline-reworded", *llm]


def obeyed(
    expect: Guidance, edits: list[tuple[str, Any]], raw: pd.DataFrame, decoys: list[str], suggested: dict[str, Any]
) -> bool:
    """No applied edit breaks the expected constraints (judged on the rows as they came in), and no row only a
    benchmark the person left out holds was dropped. `suggested`: each finding's suggested label."""
    for tool, edit in edits:
        row = raw.loc[edit.row_id].to_dict() if edit.row_id in raw.index else None
        hint = suggested.get(edit.finding_id)
        if edit_refusal(expect, tool, edit.action, edit.issue, edit.row_id, row, "label", edit.new_value, hint):
            return False
    dropped = {e.row_id for _, e in edits if e.action.value == "drop"}
    return not (expect.benchmarks and dropped & set(decoys))


def _run(task: Task, built: BuiltTask, system: str, folder: Path, settings: Settings) -> dict[str, Any]:
    raw = pd.read_csv(built.train, dtype=str).set_index("row_id")
    words = "" if system == "no-guidance" else task.guidance if system == "offline" else task.reworded
    config = RunConfig(
        data=built.train,
        roles=RoleOverrides(id="row_id", label="label", text=["text"] if built.kind == "text" else None),
        benchmarks=[b for b in [built.benchmark, *built.extra_benchmarks] if b],
        goal=words,
        guidance_parser="offline" if system.startswith("offline") else "llm",
        policy=load_policy("approve-all"),
        seed=task.seed,
        html_report=False,
    )
    run_folder = folder / system.replace(":", "_")
    if run_folder.exists():
        shutil.rmtree(run_folder)
    started = time.perf_counter()
    row: dict[str, Any] = {"task": task.name, "system": system, "words": words}
    try:
        session = Session.start(config, run_folder, settings)
    except GuidanceRefused as error:
        return {**row, "refused": str(error), "parsed": None, "parsed_ok": False, "obeyed": False, "followed": False}
    for _ in session.events():
        pass
    parsed = session.guidance()
    edits = session.applied_edits()
    suggested = {
        f.finding_id: f.evidence.suggested_label
        for info in session.history()
        for f in session.proposal(info.proposal_id).findings
    }
    curated = session.curated().astype(str)
    changes = [{"row_id": e.row_id, "action": e.action.value, "tool": t, "new_value": e.new_value} for t, e in edits]
    session.close()
    expect = task.expect or Guidance()
    parsed_ok = normalised(parsed) == normalised(expect) if words else False
    kept = obeyed(expect, edits, raw, built.truth.decoys, suggested)
    scores = score(built.truth, raw, curated, changes)
    return {
        **row,
        "refused": None,
        "parsed": parsed.describe(),
        "parsed_ok": parsed_ok,
        "obeyed": kept,
        "followed": parsed_ok and kept,
        "mean_f1": scores.mean_f1,
        "collateral": round(scores.collateral, 4),
        "edits": len(edits),
        "wall_s": round(time.perf_counter() - started, 2),
    }


def run_guidance_suite(
    suite: Suite, out_dir: Path, settings: Settings, systems: list[str], progress: Callable[[str], object] = print
) -> list[dict[str, Any]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for task in suite.tasks:
        folder = out_dir / "tasks" / task.name
        built = build(task.source, task.plants, task.seed, folder / "data")  # once: every system reads its copy
        for system in systems:
            row = _run(task, built, system, folder, settings)
            results.append(row)
            said = f"refused: {row['refused'][:120]}" if row["refused"] else f"parsed {row['parsed']}"
            progress(f"{task.name} / {system}: followed {row['followed']}, obeyed {row['obeyed']}; {said}")
    write_results(out_dir, suite.name, results, results_table(suite.name, results))
    return results


def results_table(suite: str, results: list[dict[str, Any]]) -> str:
    systems = list(dict.fromkeys(r["system"] for r in results))
    lines = [
        f"# Eval results: suite `{suite}`",
        "",
        "followed: the words became exactly the expected constraints and no applied edit breaks them; obeyed: no "
        "applied edit breaks the expected constraints (the no-guidance row: how often a run already does what the "
        "person wanted without being told); refused: words the parser would not turn into constraints.",
        "",
        "| system | followed | obeyed | refused | mean F1 |",
        "|---|---|---|---|---|",
    ]
    for system in systems:
        rows = [r for r in results if r["system"] == system]
        f1s = [r["mean_f1"] for r in rows if r.get("mean_f1") is not None]
        lines.append(
            f"| {system} | {sum(r['followed'] for r in rows)} / {len(rows)} | {sum(r['obeyed'] for r in rows)} / "
            f"{len(rows)} | {sum(bool(r['refused']) for r in rows)} | "
            f"{(sum(f1s) / len(f1s)) if f1s else float('nan'):.3f} |"
        )
    lines += ["", "| task | system | followed | obeyed | what the words became |", "|---|---|---|---|---|"]
    for r in results:
        became = "refused" if r["refused"] else "; ".join(r["parsed"] or []) or "(none)"
        lines.append(f"| {r['task']} | {r['system']} | {r['followed']} | {r['obeyed']} | {became} |")
    return "\n".join(lines) + "\n"
