"""Decontamination: our decontam tool vs the 13-gram rule (lm-evaluation-harness), side by side in one run.

Quality: the planted corpus of benchmarks/decontam_corpus.py, scanned against GSM8K test, all of MMLU
test and HumanEval. Per variant: recall; overall: precision, recall, F1 and AUROC (stretch variants
apart). The paraphrase model's weights were fitted with --fit on items with even ids (dev); the
"held-out" line counts only planted items with odd ids. Throughput (--parts scale): N distinct
training documents from ../shared/data against MMLU test, with a fresh index and embedding cache.

    PYTHONWARNINGS=ignore python benchmarks/decontam.py [--parts quality,scale] [--docs 100000] [--fit]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))
from decontam_corpus import STRETCH, benchmark_paths, build
from jsonl import records

from curation_tools.benchmark_files import load_benchmark
from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.decontam import DecontamParams, run
from curation_tools.text import normalize

CACHE = Path(__file__).parent / ".cache" / "decontam"


def dataset(texts: list[str], row_ids: list[str]) -> Dataset:
    frame = pd.DataFrame({"text": texts}, index=pd.Index(row_ids, name="row_id"))
    return Dataset(frame=frame, roles=Roles(text=["text"]), source=DataSource(path="corpus.jsonl", format="jsonl"))


def thirteen_gram(texts: list[str], benchmarks: list[str]) -> np.ndarray:
    """lm-evaluation-harness style: a row is contaminated when it shares any 13-gram with a benchmark item."""
    grams: set[tuple[str, ...]] = set()
    for spec in benchmarks:
        for item in load_benchmark(spec).texts:
            words = re.findall(r"\w+", normalize(item))
            grams.update(tuple(words[i : i + 13]) for i in range(len(words) - 12))
    hits = np.zeros(len(texts), dtype=bool)
    for r, text in enumerate(texts):
        words = re.findall(r"\w+", normalize(text))
        hits[r] = any(tuple(words[i : i + 13]) in grams for i in range(len(words) - 12))
    return hits


def metrics(truth: np.ndarray, flagged: np.ndarray, scores: np.ndarray | None = None) -> dict[str, float]:
    tp = int((truth & flagged).sum())
    precision = tp / max(int(flagged.sum()), 1)
    recall = tp / max(int(truth.sum()), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    out = {"precision": precision, "recall": recall, "F1": f1}
    if scores is not None:
        out["AUROC"] = roc_auc_score(truth, scores)
    return out


def quality(shared: Path, fit: bool, full_index: bool = False) -> None:
    frame = build(shared)
    specs = [str(p) for p in benchmark_paths(shared).values()]
    texts = frame["text"].tolist()
    params = DecontamParams(benchmark=specs, threshold=1e-6, full_index=full_index)  # every scored row, for AUROC
    ctx = ToolContext(cache_dir=CACHE)  # embeddings cached across runs here; --parts scale measures a cold start
    started = time.perf_counter()
    result = run(dataset(texts, frame["row_id"].tolist()), params, ctx)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    baseline = thirteen_gram(texts, specs)
    baseline_s = time.perf_counter() - started

    score = pd.Series(0.0, index=frame["row_id"])
    item_of = pd.Series("", index=frame["row_id"])
    for f in result.findings:
        score[f.row_id] = f.score
        item_of[f.row_id] = f"{f.evidence.benchmark}:{f.evidence.benchmark_item}"
    scores = score.to_numpy()
    flagged = scores >= DecontamParams.model_fields["threshold"].default
    variant = frame["variant"].to_numpy()
    main = ~np.isin(variant, list(STRETCH))
    truth = variant != "clean"
    odd = frame["item"].fillna("0").str.extract(r"(\d+)$")[0].astype(int).to_numpy() % 2 == 1
    held_out = main & (~truth | odd)
    print(f"corpus: {len(frame)} rows ({int(truth.sum())} planted); ours {ours_s:.1f}s, 13-gram {baseline_s:.1f}s")
    print("| variant | rows | 13-gram recall | ours recall | ours, held-out items (odd ids) | ours: right item |")
    print("|---|---|---|---|---|---|")
    expected = (frame["benchmark"].fillna("") + ":" + frame["item"].fillna("")).to_numpy()
    for name in sorted(set(variant) - {"clean"}):
        sel = variant == name
        right = (item_of.to_numpy()[sel & flagged] == expected[sel & flagged]).mean() if (sel & flagged).any() else 0
        print(
            f"| {name} | {sel.sum()} | {baseline[sel].mean():.3f} | {flagged[sel].mean():.3f} "
            f"| {flagged[sel & odd].mean():.3f} ({(sel & odd).sum()}) | {right:.3f} |"
        )
    print(f"| clean rows flagged | {(~truth).sum()} | {baseline[~truth].sum()} | {flagged[~truth].sum()} | |")
    print("\n| set | method | precision | recall | F1 | AUROC |\n|---|---|---|---|---|---|")
    for label, sel in [("all (no stretch)", main), ("held-out items only", held_out)]:
        for method, flags, sc in [("13-gram", baseline, baseline.astype(float)), ("ours", flagged, scores)]:
            m = metrics(truth[sel], flags[sel], sc[sel])
            print(
                f"| {label} | {method} | " + " | ".join(f"{m[k]:.3f}" for k in ("precision", "recall", "F1", "AUROC"))
            )
    low, high = DecontamParams.model_fields["judge_band"].default
    band = [f for f in result.findings if low <= f.score <= high]
    words = sum(
        len(texts[frame.index[frame["row_id"] == f.row_id][0]].split()) + len(f.evidence.benchmark_text.split())
        for f in band
    )
    print(
        f"LLM judge band [{low}, {high}]: {len(band)} rows = {1000 * len(band) / len(frame):.1f} calls per 1,000 "
        f"training rows, ~{1000 * words / len(frame) * 1.3 / 1000:.1f}k prompt tokens per 1,000 rows "
        "(words x 1.3, texts cut at 4,000 characters not counted) plus the prompt template"
    )
    if fit:
        fit_weights(frame, specs)


def fit_weights(frame: pd.DataFrame, specs: list[str]) -> None:
    """Fit the paraphrase model on dev items (even ids): true pairs vs pairs from clean rows."""
    from sklearn.linear_model import LogisticRegression

    from curation_tools.decontam import (
        PARAPHRASE_WEIGHTS,
        _corpus,
        _row_margin,
        number_share,
        number_weights,
        pair_features,
        row_margin_feature,
    )

    corpus = _corpus([load_benchmark(s) for s in specs])
    texts = frame["text"].tolist()
    pairs, _ = pair_features(texts, corpus, DecontamParams(benchmark=specs), ToolContext(cache_dir=CACHE))
    pairs["row_margin"] = row_margin_feature(_row_margin(pairs))
    pairs = pairs[pairs["embedding"].notna() & (pairs["coverage"] < 0.5)].copy()
    rows, items = [texts[r] for r in pairs["row"]], [corpus.keys[i] for i in pairs["item"]]
    pairs["numbers"] = np.nan_to_num(number_share(rows, items, number_weights(corpus.keys)))
    names = np.array([b.name for b in corpus.benchmarks])[corpus.bench_of]
    owners = [corpus.benchmarks[k] for k in corpus.bench_of]
    ids = np.array([b.ids[i] for b, i in zip(owners, corpus.local, strict=True)])
    item_key = pd.Series(names[pairs["item"]] + ":" + ids[pairs["item"]], index=pairs.index)
    expected = (frame["benchmark"].fillna("") + ":" + frame["item"].fillna("")).to_numpy()[pairs["row"]]
    variant = frame["variant"].to_numpy()[pairs["row"]]
    positive = item_key.to_numpy() == expected
    usable = positive | (variant == "clean")
    even = item_key.str.extract(r"(\d+)$")[0].astype(int).to_numpy() % 2 == 0
    sel = usable & even
    features = [name for name in PARAPHRASE_WEIGHTS if name != "bias"]
    model = LogisticRegression(C=10).fit(pairs.loc[sel, features], positive[sel])
    weights = dict(zip(features, model.coef_[0].round(2).tolist(), strict=True))
    print("fitted PARAPHRASE_WEIGHTS:", {**weights, "bias": round(float(model.intercept_[0]), 2)})


def real_texts(shared: Path, n_docs: int) -> list[str]:
    """Up to n distinct real texts from ../shared/data (reviews, posts, queries, questions, messages)."""
    texts: list[str] = []
    sources = [
        ("imdb/imdb_test.jsonl.gz", "text"),
        ("20news/20news_train.jsonl.gz", "text"),
        ("20news/20news_test.jsonl.gz", "text"),
        ("clinc150/clinc150_full.jsonl", "text"),
        ("banking77/banking77_train.jsonl", "text"),
        ("banking77/banking77_test.jsonl", "text"),
        ("gsm8k/gsm8k_train.jsonl", "question"),
        ("sms_spam/sms_spam.jsonl", "text"),
    ]
    for name, field in sources:
        path = shared / name
        if not path.exists():
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            texts += [json.loads(line)[field] for line in handle.read().split("\n") if line.strip()]
    texts = list(dict.fromkeys(texts))
    if len(texts) < n_docs:  # top up with the second halves of long reviews and posts (distinct texts)
        halves = [" ".join(t.split()[len(t.split()) // 2 :]) for t in texts if len(t.split()) > 80]
        texts += halves[: n_docs - len(texts)]
    texts = texts[:n_docs]
    return texts


def scale(shared: Path, n_docs: int, paraphrase: bool = True, full_index: bool = False) -> None:
    """Throughput: n distinct documents against all of MMLU test, fresh index and caches."""
    texts = real_texts(shared, n_docs)
    words = sum(len(t.split()) for t in texts)
    mmlu = str(shared / "mmlu" / "mmlu_test.jsonl.gz")
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        result = run(
            dataset(texts, [str(i) for i in range(len(texts))]),
            DecontamParams(benchmark=[mmlu], paraphrase=paraphrase, full_index=full_index),
            ToolContext(cache_dir=Path(cache)),
        )
        ours_s = time.perf_counter() - started
    started = time.perf_counter()
    thirteen_gram(texts, [mmlu])
    baseline_s = time.perf_counter() - started
    print(
        f"scale{'' if paraphrase else ' (no paraphrase layer)'}: {len(texts)} docs "
        f"({words / len(texts):.0f} words avg) vs MMLU test (14,042 items): ours "
        f"{ours_s:.1f}s incl. index build ({len(texts) / ours_s:.0f} docs/s; embedded pairs "
        f"{result.report['embedded_pairs']}); 13-gram rule {baseline_s:.1f}s; ratio {ours_s / baseline_s:.2f}x; "
        f"per 1,000 rows: ours {1000 * ours_s / len(texts):.2f}s, 13-gram {1000 * baseline_s / len(texts):.2f}s; "
        f"flagged {len(result.findings)}"
    )


def fit_question_weights(shared: Path) -> None:
    """Fit QUESTION_WEIGHTS: llm-decontaminator's English rewordings of even MMLU items (all three subjects, not
    only the corpus's sample) against ARC and CLINC150 questions the planted corpus does not hold; print the
    curve on the odd items and on those negatives, so the report corpus stays out of the fit."""
    from sklearn.linear_model import LogisticRegression

    from curation_tools.question_view import QUESTION_WEIGHTS, question_pairs

    corpus_texts = set(build(shared)["text"])
    truth = shared / "decontam_groundtruth"
    positives = [
        r
        for r in records(truth / "mmlu_3subjects_rephrased_pairs.jsonl")
        if r["variant"] == "rephrase_english_question" and not r["rephrased_is_empty"]
    ]
    arc = [
        r["question"] for n in ("arc_easy_test", "arc_challenge_test") for r in records(shared / "arc" / f"{n}.jsonl")
    ]
    clinc = [r["text"] for r in records(shared / "clinc150" / "clinc150_full.jsonl")]
    negatives = [t for t in arc + clinc if t not in corpus_texts]
    texts = [r["rephrased"] for r in positives] + negatives
    item_of = [int(r["mmlu_idx"]) for r in positives] + [-1] * len(negatives)
    bench = load_benchmark(f"{shared / 'mmlu/mmlu_test.jsonl.gz'}:mmlu")
    embed = ToolContext(cache_dir=CACHE).embedder.embed
    pairs = question_pairs(texts, np.arange(len(texts)), bench.keys, np.arange(len(bench.keys)), embed)
    truth_item = np.asarray(item_of)[pairs["row"]]
    positive = pairs["item"].to_numpy() == truth_item
    is_negative = truth_item < 0
    even = np.where(is_negative, pairs["row"].to_numpy() % 2 == 0, truth_item % 2 == 0)
    features = [name for name in QUESTION_WEIGHTS if name != "bias"]
    fit_rows = even & (positive | is_negative)
    model = LogisticRegression(C=10).fit(pairs.loc[fit_rows, features], positive[fit_rows])
    weights = dict(zip(features, model.coef_[0].round(2).tolist(), strict=True))
    print("fitted QUESTION_WEIGHTS:", {**weights, "bias": round(float(model.intercept_[0]), 2)})
    score = model.predict_proba(pairs[features])[:, 1]
    n_pos = {half: sum(1 for i in item_of if i >= 0 and i % 2 == half) for half in (0, 1)}
    for cut in (0.5, 0.6, 0.7, 0.8, 0.9):
        for half, name in ((0, "fit half"), (1, "held out")):
            sel = even if half == 0 else ~even
            found = int((sel & positive & (score >= cut)).sum())
            false = int((sel & is_negative & (score >= cut)).sum())
            print(f"  {name}, score >= {cut}: rewordings found {found / n_pos[half]:.3f}, negatives flagged {false}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--parts", default="quality,scale")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--fit", action="store_true", help="also fit the paraphrase weights on the dev half")
    parser.add_argument("--fit-questions", action="store_true", help="fit the question-rewording weights and stop")
    parser.add_argument("--no-paraphrase", action="store_true", help="scale: lexical layers only (no embedding)")
    parser.add_argument("--full-index", action="store_true", help="embed every benchmark item (the tool's option)")
    args = parser.parse_args()
    parts = args.parts.split(",")
    if args.fit_questions:
        fit_question_weights(args.shared)
        return
    if "quality" in parts:
        quality(args.shared, args.fit, args.full_index)
    if "scale" in parts:
        scale(args.shared, args.docs, paraphrase=not args.no_paraphrase, full_index=args.full_index)


if __name__ == "__main__":
    main()
