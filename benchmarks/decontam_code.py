"""Reworded code: HumanEval rewrites against CodeAlpaca programs an LLM judged not to be rewrites.

Rows: llm-decontaminator's rewrites of HumanEval (Python: renamed, restated, restructured; C, JavaScript,
Rust, Go, Java translations reported as a stretch) and the 164 CodeAlpaca-20k programs its detector retrieved
as the nearest training sample of each HumanEval item, with GPT-4's verdict (18 judged rewrites, 146 not: the
hard negatives). Each row is scored by curation_tools.code_view against all 164 HumanEval items. `--fit`
refits CODE_WEIGHTS on even task ids; the table reports odd task ids (held out) and all.

    PYTHONWARNINGS=ignore python benchmarks/decontam_code.py          # --fit
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from jsonl import records

from curation_tools.benchmark_files import load_benchmark
from curation_tools.code_view import CODE_WEIGHTS, code_pairs
from curation_tools.context import ToolContext

CACHE = Path(__file__).parent / ".cache" / "decontam"
THRESHOLD = 0.5


def rows_of(shared: Path) -> pd.DataFrame:
    truth = shared / "decontam_groundtruth"
    out = [
        {"text": r["rephrased"], "task": int(r["task_id"].split("/")[1]), "kind": r["variant"]}
        for r in records(truth / "humaneval_rephrased_pairs.jsonl")
        if not r["rephrased_is_empty"]
    ]
    for r in records(truth / "codealpaca_vs_humaneval_llm_judgements.jsonl"):
        kind = "codealpaca, judged a rewrite" if r["llm_judged_rephrase"] else "codealpaca, judged not a rewrite"
        out.append({"text": r["train_candidate_top1"], "task": int(r["idx"]), "kind": kind})
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args()
    bench = load_benchmark(f"{args.shared / 'humaneval/HumanEval.jsonl'}:humaneval")
    frame = rows_of(args.shared)
    embedder = ToolContext(cache_dir=CACHE).embedder
    pairs = code_pairs(
        frame["text"].tolist(), np.arange(len(frame)), bench.texts, np.arange(len(bench.texts)), embedder.embed
    )
    pairs["task"] = frame["task"].to_numpy()[pairs["row"]]
    pairs["kind"] = frame["kind"].to_numpy()[pairs["row"]]
    pairs["right"] = pairs["item"] == pairs["task"]
    rewrite = ~pairs["kind"].str.startswith("codealpaca")
    if args.fit:
        from sklearn.linear_model import LogisticRegression

        train = (pairs["task"] % 2 == 0) & (rewrite & (pairs["kind"] == "python") | pairs["kind"].str.contains("not"))
        features = [name for name in CODE_WEIGHTS if name != "bias"]
        model = LogisticRegression(C=10).fit(pairs.loc[train, features], pairs.loc[train, "right"] & rewrite[train])
        weights = dict(zip(features, model.coef_[0].round(2).tolist(), strict=True))
        print("fitted CODE_WEIGHTS:", {**weights, "bias": round(float(model.intercept_[0]), 2)})
        dev = pairs[pairs["task"] % 2 == 0].sort_values("score", ascending=False).drop_duplicates("row")
        for cut in (0.3, 0.35, 0.4, 0.45, 0.5):  # with the weights in use: where the dev half's recall stops rising
            python = dev.loc[dev["kind"] == "python", "score"] >= cut
            negatives = dev.loc[dev["kind"].str.contains("not"), "score"] >= cut
            print(f"  dev, score >= {cut}: python {python.mean():.3f}, CodeAlpaca negatives {negatives.sum()}")
    best = pairs.sort_values("score", ascending=False).drop_duplicates("row").set_index("row").sort_index()
    best["flagged"] = best["score"] >= THRESHOLD
    print(f"CODE_WEIGHTS in use: {CODE_WEIGHTS}; threshold {THRESHOLD}")
    print("| rows | n | flagged (all ids) | flagged, odd ids (held out) | flagged with the right item |")
    print("|---|---|---|---|---|")
    for kind in [*sorted(set(frame["kind"]) - {"python"}, key=lambda k: (k.startswith("codealpaca"), k)), "python"]:
        sel = best["kind"] == kind
        odd = sel & (best["task"] % 2 == 1)
        right = (best["flagged"] & best["right"] & sel).sum()
        print(
            f"| {kind} | {sel.sum()} | {best.loc[sel, 'flagged'].mean():.3f} | {best.loc[odd, 'flagged'].mean():.3f} "
            f"| {right}/{best.loc[sel, 'flagged'].sum()} |"
        )


if __name__ == "__main__":
    main()
