"""Label-error detection: our tool vs cleanlab's default pipeline, side by side in one run.

cleanlab default = what a user builds from cleanlab's docs: TF-IDF (text) or raw features (tabular)
+ LogisticRegression, 5-fold out-of-fold probabilities (cross_val_predict), `find_label_issues`
with its defaults. For text we also run the same default on MiniLM embeddings (the stronger anchor).
Ours = the label-errors tool's pipeline with default settings (`ensemble_probabilities` + `flag_rows`,
exactly as `curate tools label-errors` runs them; fresh embedding cache, so embedding time is included).

    python benchmarks/label_errors.py [--shared ../shared/data] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from cleanlab.filter import find_label_issues
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, DataSource
from curation_tools.label_errors import LabelErrorParams, ensemble_probabilities, flag_rows
from curation_tools.roles import RoleOverrides, infer_roles

PARAMS = LabelErrorParams()


def flip(labels: np.ndarray, rate: float, seed: int = 0) -> np.ndarray:
    """Uniform noise: `rate` of the rows get a different class, chosen uniformly."""
    rng = np.random.default_rng(seed)
    noisy = labels.copy()
    classes = np.unique(labels)
    for i in rng.choice(len(labels), round(rate * len(labels)), replace=False):
        noisy[i] = rng.choice(classes[classes != labels[i]])
    return noisy


def dataset(frame: pd.DataFrame, **roles) -> Dataset:
    frame = frame.set_axis(pd.Index([str(i) for i in range(len(frame))], name="row_id"))
    found, _ = infer_roles(frame, RoleOverrides(**roles))
    return Dataset(frame=frame, roles=found, source=DataSource(path="<benchmark>", format="csv"))


def prf(flags: np.ndarray, errors: np.ndarray) -> tuple[float, float, float]:
    tp = int((flags & errors).sum())
    precision = tp / max(int(flags.sum()), 1)
    recall = tp / max(int(errors.sum()), 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-12)


def row(name: str, method: str, flags: np.ndarray, scores: np.ndarray, errors: np.ndarray, elapsed: float) -> str:
    p, r, f = prf(flags, errors)
    return (
        f"| {name} | {method} | {p:.3f} | {r:.3f} | **{f:.3f}** | {roc_auc_score(errors, scores):.3f} | {elapsed:.2f} |"
    )


def cleanlab_default(x, noisy: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """cleanlab's default pipeline: (flags, out-of-fold probabilities, seconds)."""
    start = time.perf_counter()
    with threadpool_limits(2):
        probs = cross_val_predict(
            LogisticRegression(max_iter=1000),
            x,
            noisy,
            cv=StratifiedKFold(5, shuffle=True, random_state=0),
            method="predict_proba",
        )
    flags = np.zeros(len(noisy), bool)
    flags[find_label_issues(noisy, probs)] = True
    return flags, probs, time.perf_counter() - start


def error_scores(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return 1 - probs[np.arange(len(labels)), labels]


def ours(data: Dataset) -> tuple[np.ndarray, np.ndarray, float]:
    """The tool's own pipeline (ensemble_probabilities + flag_rows, as `run` calls them), fitted once."""
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        ensemble = ensemble_probabilities(data, PARAMS, ToolContext(cache_dir=Path(cache)))
        flags = flag_rows(ensemble, PARAMS)
        elapsed = time.perf_counter() - start
    return flags, ensemble.scores(), elapsed


def synthetic_sets(shared: Path) -> dict[str, tuple[pd.DataFrame, dict, float]]:
    def jsonl(path: Path) -> pd.DataFrame:
        return pd.read_json(path, lines=True)

    sets: dict[str, tuple[pd.DataFrame, dict, float]] = {
        "banking77 train, 8% flips": (
            jsonl(shared / "banking77/banking77_train.jsonl")[["text", "label"]],
            {"text": ["text"], "label": "label"},
            0.08,
        ),
        "SMS spam, 5% flips": (
            jsonl(shared / "sms_spam/sms_spam.jsonl")[["text", "label"]],
            {"text": ["text"], "label": "label"},
            0.05,
        ),
    }
    for name, loader in (("breast_cancer", load_breast_cancer), ("wine", load_wine), ("digits", load_digits)):
        bunch = loader()
        frame = pd.DataFrame(bunch.data, columns=[f"f{i}" for i in range(bunch.data.shape[1])]).assign(
            label=bunch.target
        )
        sets[f"{name}, 10% flips"] = (frame, {"label": "label", "features": [c for c in frame if c != "label"]}, 0.10)
    return sets


def run_synthetic(shared: Path, only: set[str] | None) -> list[str]:
    rows = []
    for name, (frame, roles, rate) in synthetic_sets(shared).items():
        if only and not any(o.lower() in name.lower() for o in only):
            continue
        clean = frame["label"].to_numpy()
        noisy = flip(clean, rate)
        errors = noisy != clean
        data = dataset(frame.assign(label=noisy), **roles)
        text = bool(data.roles.text)
        baselines = {
            "cleanlab default (TF-IDF + LR)"
            if text
            else "cleanlab default (raw features + LR)": TfidfVectorizer().fit_transform(frame["text"])
            if text
            else frame[roles["features"]].to_numpy()
        }
        if text:
            with tempfile.TemporaryDirectory() as cache:
                ctx = ToolContext(cache_dir=Path(cache))
                baselines["cleanlab default (MiniLM embeddings + LR)"] = ctx.embedder.embed(frame["text"].tolist())
        for label, x in baselines.items():
            flags, probs, elapsed = cleanlab_default(x, noisy)
            scores = error_scores(probs, noisy)
            rows.append(row(name, label, flags, scores, errors, elapsed))
        flags, scores, elapsed = ours(data)
        rows.append(row(name, "ours (defaults)", flags, scores, errors, elapsed))
        print(*rows[-len(baselines) - 1 :], sep="\n", flush=True)
    return rows


def run_20news(shared: Path) -> list[str]:
    folder = shared / "20news"
    with gzip.open(folder / "20news_test.jsonl.gz", "rt") as handle:
        frame = pd.DataFrame([json.loads(x) for x in handle])[["text", "label"]]
    reviews = [json.loads(x) for x in (folder / "20news_test_mturk_label_errors.jsonl").read_text().splitlines()]
    reviewed = {r["idx"] for r in reviews}
    verified = {r["idx"] for r in reviews if r["mturk_votes"]["given"] < 3}
    labels = frame["label"].to_numpy()

    def describe(label: str, order: np.ndarray, n_flags: int, elapsed: float) -> str:
        top = [int(i) for i in order[:100]]
        found = len(verified & set(top))
        in_review = [i for i in top if i in reviewed]
        precision = sum(i in verified for i in in_review) / max(len(in_review), 1)
        return (
            f"| {label} | {found} / {len(verified)} | {precision:.2f} ({len(in_review)} reviewed) | {n_flags} |"
            f" {elapsed:.0f} |"
        )

    rows = []
    shipped = np.load(folder / "cleanlab_20news_test_pyx.npy")
    issues = find_label_issues(labels, shipped, return_indices_ranked_by="self_confidence")
    rows.append(describe("cleanlab on its shipped probabilities (anchor)", issues, len(issues), 0.0))
    flags, probs, elapsed = cleanlab_default(TfidfVectorizer().fit_transform(frame["text"]), labels)
    scores = error_scores(probs, labels)
    order = np.flatnonzero(flags)[np.argsort(-scores[flags])]
    rows.append(describe("cleanlab default (TF-IDF + LR)", order, int(flags.sum()), elapsed))
    data = dataset(frame, text=["text"], label="label")
    flags, scores, elapsed = ours(data)
    order = np.flatnonzero(flags)[np.argsort(-scores[flags])]  # the tool sorts its findings by this score
    rows.append(describe("ours (defaults)", order, int(flags.sum()), elapsed))
    print(*rows, sep="\n", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--only", type=str, default=None, help="comma-separated name parts (e.g. sms,wine,20news)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    print("| data | method | precision | recall | F1 | AUROC | time (s) |\n|---|---|---|---|---|---|---|")
    run_synthetic(args.shared, only)
    if not only or "20news" in only:
        print(
            "\n| 20news test (82 verified errors) | verified errors in top 100 flags | precision on reviewed flags |"
            " flags | time (s) |\n|---|---|---|---|---|"
        )
        run_20news(args.shared)


if __name__ == "__main__":
    main()
