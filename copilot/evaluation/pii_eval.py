"""`curate eval --suite pii`: chats with planted personal data, run through `curate run` as a user runs it
(approve-all), scored on what the curated data holds and on what the run folder kept.

Per task and system: recall per kind (a planted value no longer in its message), precision (redactions on the
planted value's conversation and kind, over all redactions applied), and `values_left`: files under the run folder
still holding a planted value after the run (raw bytes, Parquet decoded), which forgetting must keep at 0. A task
with no plants is a control: every redaction there is a false one. Systems: `heuristic` (the offline planner on
its own: it must run pii first on chat data) and `pii-recipe` (a recipe of pii alone)."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from copilot.agents.recipe import Recipe, RecipeStep
from copilot.evaluation.builders import SHARED, read_jsonl
from copilot.evaluation.pii_data import KIND_NAMES, Plant, build_chats
from copilot.evaluation.suite import Suite, Task, write_results
from copilot.ledger.forget import leftovers
from copilot.review.policy import load_policy
from copilot.run.run_config import RunConfig
from copilot.run.session import Session

SYSTEMS = ("heuristic", "pii-recipe")


def build_task(task: Task, folder: Path) -> tuple[Path, list[Plant]]:
    folder.mkdir(parents=True, exist_ok=True)
    n = task.source.per_class
    rng = random.Random(task.seed)
    queries = read_jsonl(SHARED / "banking77" / "banking77_test.jsonl")
    problems = read_jsonl(SHARED / "gsm8k" / "gsm8k_test.jsonl")
    chats, plants = build_chats(rng.sample(queries, n), rng.sample(problems, n), task.plants.pii, task.seed)
    path = folder / "chats.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in chats), encoding="utf-8")
    return path, plants


def _run(system: str, data: Path, folder: Path, seed: int) -> Session:
    recipe = Recipe(steps=[RecipeStep(tool="pii")]) if system == "pii-recipe" else Recipe()
    config = RunConfig(data=str(data), policy=load_policy("approve-all"), recipe=recipe, seed=seed, html_report=False)
    session = Session.start(config, folder)
    for _ in session.events():
        pass
    return session


def score_run(session: Session, raw: list[dict[str, Any]], plants: list[Plant], folder: Path) -> dict[str, Any]:
    curated = session.curated()
    now = {str(i): row["messages"] for i, row in curated.iterrows()}
    where = {(p.row_id, p.kind) for p in plants}
    found = Counter(p.kind for p in plants if p.value not in json.dumps(now.get(p.row_id, []), ensure_ascii=False))
    redactions = [(e.row_id, e.issue.removeprefix("pii_")) for tool, e in session.applied_edits() if tool == "pii"]
    correct = sum(r in where for r in redactions)
    planted = Counter(p.kind for p in plants)
    row: dict[str, Any] = {f"{k}_recall": (found[k] / planted[k] if planted[k] else None) for k in KIND_NAMES}
    row.update(
        {
            "planted": len(plants),
            "redactions": len(redactions),
            "false_redactions": len(redactions) - correct,
            "precision": correct / len(redactions) if redactions else None,
            "values_left": [str(p.relative_to(folder)) for p in leftovers(folder, [p.value for p in plants])],
            "rows": len(raw),
        }
    )
    return row


def run_pii_suite(suite: Suite, out_dir: Path, progress: Callable[[str], object] = print) -> list[dict[str, Any]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for task in suite.tasks:
        data, plants = build_task(task, out_dir / "tasks" / task.name / "data")
        raw = read_jsonl(data)
        for system in SYSTEMS:
            folder = out_dir / "tasks" / task.name / system
            started = time.perf_counter()
            session = _run(system, data, folder, task.seed)
            row = {"task": task.name, "system": system, "restraint": task.restraint}
            row.update(score_run(session, raw, plants, folder))
            row["wall_s"] = round(time.perf_counter() - started, 2)
            session.close()
            results.append(row)
            progress(
                f"{task.name} / {system}: {row['redactions']} redactions ({row['false_redactions']} false) of "
                f"{len(plants)} planted; values left in {len(row['values_left'])} files"
            )
    write_results(out_dir, suite.name, results, results_table(suite.name, results))
    return results


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def results_table(suite: str, results: list[dict[str, Any]]) -> str:
    head = "| task | system | " + " | ".join(f"{k} recall" for k in KIND_NAMES)
    lines = [
        f"# Eval results: suite `{suite}`",
        "",
        "recall: planted values gone from their message; precision: redactions on a planted value's conversation "
        "and kind; values left: files under the run folder still holding a planted value after the run.",
        "",
        head + " | precision | false redactions | values left | time (s) |",
        "|" + "---|" * (len(KIND_NAMES) + 6),
    ]
    for r in results:
        recalls = " | ".join(_fmt(r[f"{k}_recall"]) for k in KIND_NAMES)
        lines.append(
            f"| {r['task']} | {r['system']} | {recalls} | {_fmt(r['precision'])} | {r['false_redactions']} "
            f"| {len(r['values_left'])} | {r['wall_s']} |"
        )
    return "\n".join(lines) + "\n"
