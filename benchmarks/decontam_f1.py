"""llm-decontaminator's own F1 protocol (f1score/mmlu/f1_emb.py and f1score/humaneval/f1_emb.py), with this
tool as the detector, beside the paper's Tables 5 and 6 (arXiv 2311.04850).

Protocol, per MMLU subject (abstract algebra, sociology, high-school US history) and for HumanEval: the first 100
benchmark items; a positive pair is item i and its rewrite i (English rewording; Chinese translation with
choices; Python rewrite, C and JavaScript translations), found when the tool flags the rewrite as a copy of item i
(an empty MMLU rewrite counts as found, as in their script); the "test set" column pairs each item with itself.
False positives: 100 pairs of two different items among 15 drawn at random (seeded here), flagged when the tool,
scanning item j against the other items, flags it as a copy of item i. F1 from those counts.

    PYTHONWARNINGS=ignore python benchmarks/decontam_f1.py          # --seed 0
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from jsonl import records

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.decontam import DecontamParams, run

CACHE = Path(__file__).parent / ".cache" / "decontam"
PAPER = {  # Table 5 and 6: 10-gram / embedding (Multi-QA MiniLM) / LLM Decontaminator (GPT-4)
    ("abstract_algebra", "test set"): (0.926, 0.990, 1.0),
    ("abstract_algebra", "rephrased English"): (0.0, 0.985, 0.960),
    ("abstract_algebra", "rephrased Chinese"): (0.0, 0.179, 0.990),
    ("sociology", "test set"): (1.0, 0.995, 1.0),
    ("sociology", "rephrased English"): (0.0, 0.985, 0.940),
    ("sociology", "rephrased Chinese"): (0.0, 0.020, 0.950),
    ("high_school_us_history", "test set"): (0.816, 0.980, 1.0),
    ("high_school_us_history", "rephrased English"): (0.0, 0.805, 0.970),
    ("high_school_us_history", "rephrased Chinese"): (0.0, 0.0, 0.980),
    ("humaneval", "test set"): (1.0, 0.985, 1.0),
    ("humaneval", "rephrased Python"): (0.0, 0.938, 0.995),
    ("humaneval", "rephrased C"): (0.0, 0.774, 0.974),
    ("humaneval", "rephrased JS"): (0.0, 0.788, 0.980),
}


def f1(tp: int, fp: int, fn: int) -> float:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def flagged_items(rows: list[str], bench: Path, spec: str) -> list[str | None]:
    """The benchmark item id each row is flagged as a copy of (None: not flagged)."""
    frame = pd.DataFrame({"text": rows or [""]}, index=pd.Index([str(i) for i in range(max(len(rows), 1))]))
    data = Dataset(frame=frame, roles=Roles(text=["text"]), source=DataSource(path="rows", format="jsonl"))
    result = run(data, DecontamParams(benchmark=[f"{bench}:{spec}"]), ToolContext(cache_dir=CACHE))
    found = {f.row_id: f.evidence.benchmark_item for f in result.proposal.findings}
    return [found.get(str(i)) for i in range(len(rows))]


def write(folder: Path, name: str, items: list[dict], skip: int | None = None) -> Path:
    path = folder / f"{name}{'' if skip is None else f'-without-{skip}'}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for k, r in enumerate(items) if k != skip))
    return path


def false_positives(folder: Path, name: str, items: list[dict], texts: list[str], spec: str, seed: int) -> int:
    """Of 100 pairs of different items among 15 drawn, how many the tool calls copies of each other."""
    drawn = random.Random(seed).sample(range(len(items)), 15)
    pairs = [(a, b) for n, a in enumerate(drawn) for b in drawn[n + 1 :]][:100]
    hits = 0
    for j in sorted({b for _, b in pairs}):
        [item] = flagged_items([texts[j]], write(folder, name, items, skip=j), spec)
        hits += sum(1 for a, b in pairs if b == j and item == str(items[a]["id"]))
    return hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    truth = args.shared / "decontam_groundtruth"
    mmlu_pairs = records(truth / "mmlu_3subjects_rephrased_pairs.jsonl")
    mmlu = {r["idx"]: r for r in records(args.shared / "mmlu/mmlu_test.jsonl.gz")}
    print(
        "| subject | pairs | paper: 10-gram | paper: embedding | paper: GPT-4 judge | ours: F1 (found, false pairs) |"
    )
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for subject in ("abstract_algebra", "sociology", "high_school_us_history"):
            rows = sorted((r for r in mmlu_pairs if r["subject"] == subject), key=lambda r: r["subject_idx"])
            ids = sorted({r["mmlu_idx"] for r in rows}, key=lambda i: mmlu[i]["subject_idx"])[:100]
            items = [
                {"id": i, "question": mmlu[i]["question"], "choices": mmlu[i]["choices"], "answer": mmlu[i]["answer"]}
                for i in ids
            ]
            questions = [mmlu[i]["question"] for i in ids]
            fp = false_positives(folder, subject, items, questions, "mmlu", args.seed)
            bench = write(folder, subject, items)
            variants = {
                "test set": questions,
                "rephrased English": _aligned(rows, ids, "rephrase_english_question"),
                "rephrased Chinese": _aligned(rows, ids, "chinese_question_choices"),
            }
            for variant, texts in variants.items():
                found = flagged_items([t or "" for t in texts], bench, "mmlu")
                tp = sum(1 for t, f, i in zip(texts, found, ids, strict=True) if not t or f == str(i))
                _row(subject, variant, len(ids), tp, fp)
        human = records(args.shared / "humaneval/HumanEval.jsonl")[:100]
        items = [
            {"id": r["task_id"], "prompt": r["prompt"], "canonical_solution": r["canonical_solution"]} for r in human
        ]
        programs = [r["prompt"] + r["canonical_solution"] for r in human]
        fp = false_positives(folder, "humaneval", items, programs, "humaneval", args.seed)
        bench = write(folder, "humaneval", items)
        rewrites = records(truth / "humaneval_rephrased_pairs.jsonl")
        for variant, name in (
            ("test set", None),
            ("rephrased Python", "python"),
            ("rephrased C", "c"),
            ("rephrased JS", "javascript"),
        ):
            if name is None:
                texts = programs
            else:
                by_task = {r["task_id"]: r["rephrased"] for r in rewrites if r["variant"] == name}
                texts = [by_task.get(r["task_id"], "") for r in human]
            found = flagged_items(texts, bench, "humaneval")
            tp = sum(1 for f, r in zip(found, human, strict=True) if f == r["task_id"])
            _row("humaneval", variant, len(human), tp, fp)


def _aligned(rows: list[dict], ids: list[int], variant: str) -> list[str]:
    by_item = {
        r["mmlu_idx"]: ("" if r["rephrased_is_empty"] else r["rephrased"]) for r in rows if r["variant"] == variant
    }
    return [by_item.get(i, "") for i in ids]


def _row(subject: str, variant: str, n: int, tp: int, fp: int) -> None:
    ngram, emb, judge = PAPER[(subject, variant)]
    print(
        f"| {subject}, {variant} | {n} | {ngram:.3f} | {emb:.3f} | {judge:.3f} "
        f"| **{f1(tp, fp, n - tp):.3f}** ({tp}/{n}, {fp}/100) |"
    )


if __name__ == "__main__":
    main()
