"""Could decontam's rewording layer skip MiniLM for most rows? What issue 38's target (decontam within 3x the
13-gram rule's time, rewording layer on) leaves for embedding, against what a cheap gate must keep.

    PYTHONWARNINGS=ignore python benchmarks/decontam_gate.py            # about 7 minutes on 2 cores

Rows: the 100,000 real texts of `decontam.py --parts scale` (no planted copies: every flag among them is false)
and llm-decontaminator's 1,168 rewordings of MMLU items (three subjects), against all of MMLU test. The question
layer (reworded exam questions in rows of up to 80 words) scores each short row's TF-IDF candidates with MiniLM;
a gate would embed only the rows it passes. Gates, each read per row before any MiniLM call:
- lexical: the row's best TF-IDF cosine among the item views (the layer's own candidate retrieval);
- static: the best WordLlama (static embedder, about 25x MiniLM's speed) cosine among those candidates.
For each gate: the highest threshold that loses no row scoring 0.3 or more (flagged or sent to a judge), the share
of the real rows it still embeds there, and the MiniLM time that share costs at the rate measured in this run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from decontam import real_texts, thirteen_gram
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import roc_auc_score

from curation_tools.benchmark_files import load_benchmark
from curation_tools.embed import make_embedder
from curation_tools.lexical import BLOCK, TOKEN_PATTERN, best_entries
from curation_tools.question_view import QUESTION_CANDIDATES, item_views, question_pairs, short_rows

MATTERS = 0.3  # the judge band's low end: a score from here is flagged or judged
TARGET_RATIO = 3.0


def candidates(texts: list[str], rows: np.ndarray, views: list[str]) -> pd.DataFrame:
    """The question layer's TF-IDF candidates (row position, view, cosine), as question_pairs retrieves them."""
    vectorizer = TfidfVectorizer(token_pattern=TOKEN_PATTERN, sublinear_tf=True, stop_words="english")
    view_matrix = vectorizer.fit_transform(views).T.tocsr()
    found = []
    for start in range(0, len(rows), BLOCK):
        product = vectorizer.transform([texts[r] for r in rows[start : start + BLOCK]]) @ view_matrix
        r, v, s = best_entries(product, len(views), QUESTION_CANDIDATES, 1e-6)
        found.append(pd.DataFrame({"position": r + start, "view": v, "lexical": s}))
    return pd.concat(found, ignore_index=True)


def static_cosines(pairs: pd.DataFrame, texts: list[str], rows: np.ndarray, views: list[str]) -> np.ndarray:
    embedder = make_embedder("static", None)
    positions, view_ids = np.unique(pairs["position"]), np.unique(pairs["view"])
    row_vectors = embedder.embed([texts[rows[p]] for p in positions])
    view_vectors = embedder.embed([views[v] for v in view_ids])
    return np.einsum(
        "ij,ij->i",
        row_vectors[np.searchsorted(positions, pairs["position"])],
        view_vectors[np.searchsorted(view_ids, pairs["view"])],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--docs", type=int, default=100_000)
    args = parser.parse_args()
    mmlu = str(args.shared / "mmlu" / "mmlu_test.jsonl.gz")
    natural = real_texts(args.shared, args.docs)
    started = time.perf_counter()
    thirteen_gram(natural, [mmlu])
    baseline_s = time.perf_counter() - started
    with open(args.shared / "decontam_groundtruth" / "mmlu_3subjects_rephrased_pairs.jsonl", encoding="utf-8") as f:
        reworded = [r["rephrased"] for r in map(json.loads, f) if r["rephrased"]]
    texts = natural + reworded
    is_reworded = np.arange(len(texts)) >= len(natural)
    bench = load_benchmark(mmlu)
    items = np.flatnonzero([t != k for t, k in zip(bench.texts, bench.keys, strict=True)])
    rows = short_rows(texts)
    views, _ = item_views(bench.keys, items)

    with tempfile.TemporaryDirectory() as cache:
        minilm = make_embedder("minilm", Path(cache))
        started = time.perf_counter()
        scored = question_pairs(texts, rows, bench.keys, items, minilm.embed)
        layer_s = time.perf_counter() - started
    found = candidates(texts, rows, views)
    found["static"] = static_cosines(found, texts, rows, views)
    per_row = found.groupby("position").agg(lexical=("lexical", "max"), static=("static", "max"))
    per_row.index = rows[per_row.index]
    frame = per_row.join(scored.set_index("row")["score"]).fillna({"score": 0.0})
    frame["reworded"] = is_reworded[frame.index]
    real = ~frame["reworded"]
    embedded = len(frame)
    rate = embedded / layer_s  # rows a second through the whole layer, MiniLM most of it
    budget_s = TARGET_RATIO * baseline_s
    print(
        f"{len(natural):,} real texts + {len(reworded):,} rewordings vs MMLU test: {len(rows):,} short rows, "
        f"{embedded:,} with candidates, {(frame['score'] >= MATTERS).sum()} scoring >= {MATTERS} "
        f"({(frame['score'][frame['reworded']] >= MATTERS).sum()} rewordings)"
    )
    print(
        f"13-gram rule on the real texts: {baseline_s:.1f} s -> the whole tool's budget at {TARGET_RATIO:.0f}x: "
        f"{budget_s:.1f} s; the question layer alone: {layer_s:.1f} s ({rate:.0f} rows/s)"
    )
    print("| gate | AUC, rewordings vs real rows | threshold losing nothing >= 0.3 | real rows embedded | layer time |")
    print("|---|---|---|---|---|")
    truth = frame["reworded"].to_numpy()
    auc = roc_auc_score(truth, frame["score"])
    print(f"| MiniLM score (no gate) | {auc:.3f} | - | {real.sum():,} | {layer_s:.0f} s |")
    for gate in ("lexical", "static"):
        threshold = float(frame.loc[frame["score"] >= MATTERS, gate].min())
        kept = frame[gate] >= threshold
        print(
            f"| {gate} | {roc_auc_score(truth, frame[gate]):.3f} | {threshold:.3f} | "
            f"{(kept & real).sum():,} ({(kept & real).sum() / real.sum():.0%}) | {kept.sum() / rate:.0f} s |"
        )


if __name__ == "__main__":
    main()
