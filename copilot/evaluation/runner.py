"""Run a suite: each task under each system (baselines and planners) through the Session API, a simulated
reviewer answering every decision, scored against ground truth; results.json, results.md and traces."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from copilot.agents.registry import available_planners, planner_spec
from copilot.core.config import Settings
from copilot.evaluation.builders import BuiltTask, build
from copilot.evaluation.reviewers import SimulatedReviewer
from copilot.evaluation.scoring import downstream_accuracy, score
from copilot.evaluation.suite import Suite, Task, write_results
from copilot.review.policy import load_policy
from copilot.run.run_config import RunConfig
from copilot.run.session import Session
from curation_tools.errors import UserInputError
from curation_tools.roles import RoleOverrides

BASELINES = ("no-op", "all-tools", "heuristic")  # no-op changes nothing; the others are registered planners


def systems_for(settings: Settings, planner: str | None) -> list[str]:
    """The baselines always, and `planner`: any registered planner (one that uses an LLM needs an endpoint).
    Without one, the planners that use an LLM join when an endpoint is configured."""
    chosen = list(BASELINES)
    if planner is not None:
        spec = planner_spec(planner)
        if spec.uses_llm and not settings.llm_configured:
            raise UserInputError(
                f"--planner {planner} uses an LLM: set OPENAI_BASE_URL (and OPENAI_API_KEY if the endpoint needs one)."
            )
        chosen += [] if planner in chosen else [planner]
    elif settings.llm_configured:
        chosen += [name for name, spec in available_planners().items() if spec.uses_llm]
    return chosen


def _run_system(system: str, task: Task, built: BuiltTask, reviewer_spec: str, folder: Path) -> dict[str, Any]:
    raw = pd.read_csv(built.train).set_index("row_id")
    started = time.perf_counter()
    asked = 0
    usage = None
    if system == "no-op":
        curated, changes = raw, []
    else:
        config = RunConfig(
            data=built.train,
            roles=RoleOverrides(id="row_id", label="label", text=["text"] if built.kind == "text" else None),
            benchmarks=[built.benchmark] if built.benchmark else [],
            goal=task.goal or built.goal,
            goal_is_guidance=False,  # a task's goal describes the data; a guidance task's words are its guidance
            policy=load_policy("review"),
            planner=system,
            seed=task.seed,
            html_report=False,  # tens of runs per suite; results.md is the eval's report
        )
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        session = Session.start(config, folder)
        reviewer = SimulatedReviewer(reviewer_spec, built.truth, seed=task.seed)
        while True:
            for _ in session.events():
                pass
            if session.status != "waiting":
                break
            asked += len(session.pending)
            session.review_with(reviewer)
        curated = session.curated()
        changes = [
            {"row_id": e.row_id, "action": e.action.value, "tool": tool, "new_value": e.new_value}
            for tool, e in session.applied_edits()
        ]
        usage = session.llm.usage.model_dump() if session.llm else None
        session.close()
    elapsed = time.perf_counter() - started
    scores = score(built.truth, raw, curated, changes)
    test = pd.read_csv(built.test)
    if built.test != built.train:  # leaked test items would flatter the raw data
        test = test.drop(index=[int(i) for i in built.truth.leaks.values() if int(i) in test.index])
    return {
        "task": task.name,
        "system": system,
        "restraint": task.restraint,
        **scores.summary(),
        "clean_changed": scores.clean_changed,
        "decisions_asked": asked,
        "accuracy_raw": downstream_accuracy(raw, test, built.kind, task.seed),
        "accuracy_curated": downstream_accuracy(curated, test, built.kind, task.seed),
        "llm_calls": usage["calls"] if usage else 0,
        "llm_tokens": (usage["prompt_tokens"] + usage["completion_tokens"]) if usage else 0,
        "llm_cost_usd": usage["cost_usd"] if usage else 0.0,
        "wall_s": round(elapsed, 2),
    }


def run_suite(suite: Suite, systems: list[str], reviewer: str | None, out_dir: Path, progress=print) -> list[dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for task in suite.tasks:
        built = build(task.source, task.plants, task.seed, out_dir / "tasks" / task.name / "data")
        (out_dir / "tasks" / task.name / "truth.json").write_text(built.truth.model_dump_json(indent=2))
        for system in systems:
            row = _run_system(system, task, built, reviewer or task.reviewer, out_dir / "tasks" / task.name / system)
            results.append(row)
            progress(
                f"{task.name} / {system}: F1 {_fmt(row['mean_f1'])}, collateral {row['collateral']:.3f}, "
                f"{row['decisions_asked']} decisions, {row['wall_s']}s"
            )
    write_results(out_dir, suite.name, results, results_table(suite.name, results))
    return results


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def results_table(suite: str, results: list[dict]) -> str:
    systems = list(dict.fromkeys(r["system"] for r in results))
    lines = [
        f"# Eval results: suite `{suite}`",
        "",
        "Mean over tasks. F1: per planted issue type (labels, duplicates, leaks) on what was applied, averaged; "
        "collateral: share of clean rows changed; restraint: collateral on the tasks where the right move is to "
        "change nothing; Δacc: test accuracy of a fixed classifier trained on curated minus raw data.",
        "",
        "| system | mean F1 | collateral | restraint collateral | decisions asked | Δacc | LLM calls | time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for system in systems:
        rows = [r for r in results if r["system"] == system]
        restraint = [r["collateral"] for r in rows if r["restraint"]]
        f1, collateral = _mean([r["mean_f1"] for r in rows]), _mean([r["collateral"] for r in rows])
        lines.append(
            f"| {system} | {_fmt(f1)} | {_fmt(collateral)} "
            f"| {_fmt(_mean(restraint))} | {sum(r['decisions_asked'] for r in rows)} "
            f"| {_fmt(_mean([r['accuracy_curated'] - r['accuracy_raw'] for r in rows]))} "
            f"| {sum(r['llm_calls'] for r in rows)} | {sum(r['wall_s'] for r in rows):.0f} |"
        )
    lines += ["", "| task | system | F1 | collateral | decisions | acc raw → curated |", "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['task']} | {r['system']} | {_fmt(r['mean_f1'])} | {r['collateral']:.3f} | {r['decisions_asked']} "
            f"| {r['accuracy_raw']:.3f} → {r['accuracy_curated']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def compare(a: Path, b: Path) -> str:
    """Per system, the mean F1 and collateral of two result folders side by side."""
    runs = [json.loads((folder / "results.json").read_text()) for folder in (a, b)]
    lines = [
        f"| system | mean F1 {a.name} | mean F1 {b.name} | collateral {a.name} | collateral {b.name} |",
        "|---|---|---|---|---|",
    ]
    systems = list(dict.fromkeys(r["system"] for run in runs for r in run["results"]))
    for system in systems:
        cells = []
        for key in ("mean_f1", "collateral"):
            for run in runs:
                cells.append(_fmt(_mean([r[key] for r in run["results"] if r["system"] == system])))
        lines.append(f"| {system} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
    return "\n".join(lines) + "\n"
