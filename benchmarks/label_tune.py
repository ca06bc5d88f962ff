"""Where the label-error tool's choices are made: sets disjoint from every set label_grid.py reports.

Tuning sets (none of them is SMS, IMDB or banking77):
- clinc-multi: CLINC150 train split, 75 intents (every other one), many classes and few rows each (as banking77);
- clinc-binary: CLINC150 train split, the "banking" and "credit_cards" domains against the rest: short texts, a
  13% minority class (as SMS spam);
- news-binary: 20 Newsgroups train, science groups against religion and politics: long texts, two balanced classes
  (as IMDB).
Noise as label_grid.py draws it (uniform, one-way, confusable). For each cell every candidate view's out-of-fold
probabilities are computed once and kept in benchmarks/.cache/label_tune/, so flagging rules and view mixes are
compared on the same probabilities:

    PYTHONWARNINGS=ignore python benchmarks/label_tune.py views      # compute (slow once, cached)
    PYTHONWARNINGS=ignore python benchmarks/label_tune.py rules      # compare mixes and rules on the cache
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from label_errors import dataset, prf
from label_grid import noise, shapes

from curation_tools import label_errors
from curation_tools.context import ToolContext
from curation_tools.label_errors import Ensemble, LabelErrorParams, class_calibrated, flag_rows
from curation_tools.label_views import build_views

CACHE = Path(__file__).parent / ".cache" / "label_tune"
EMBED_CACHE = Path(__file__).parent / ".cache" / "label_noise"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SCIENCE = {"sci.crypt", "sci.electronics", "sci.med", "sci.space"}
TALK = {"alt.atheism", "soc.religion.christian", "talk.religion.misc", "talk.politics.guns", "talk.politics.mideast",
        "talk.politics.misc"}  # fmt: skip


def load(name: str) -> pd.DataFrame:
    if name == "clinc-small":
        return load("clinc-multi").iloc[1500:3000].reset_index(drop=True)  # 20 rows a class, as banking77 at 2,000
    if name.startswith("clinc"):
        rows = [json.loads(line) for line in (SHARED / "clinc150/clinc150_full.jsonl").open()]
        frame = pd.DataFrame([r for r in rows if r["split"] == "train"])
        if name == "clinc-multi":
            intents = sorted(frame["label_name"].unique())[::2]
            frame = frame[frame["label_name"].isin(intents)].assign(label=lambda f: f["label_name"])
        else:
            frame = frame.assign(label=np.where(frame["domain"].isin(["banking", "credit_cards"]), "bank", "other"))
    else:
        with gzip.open(SHARED / "20news/20news_train.jsonl.gz", "rt") as handle:
            frame = pd.DataFrame([json.loads(line) for line in handle])
        names = frame["label_name"] if "label_name" in frame else frame["label"]
        frame = frame[names.isin(SCIENCE | TALK)].assign(
            label=lambda f: np.where(names[f.index].isin(SCIENCE), "sci", "talk")
        )
    return frame[["text", "label"]].astype(str).sample(frac=1.0, random_state=0).reset_index(drop=True)


def cells(sizes: dict[str, int], rates: list[float], seeds: list[int]):
    for name, size in sizes.items():
        frame = load(name).head(size).reset_index(drop=True)
        clean = frame["label"].to_numpy()
        for shape in shapes(clean):
            for rate in rates:
                for seed in seeds:
                    yield name, frame, clean, shape, rate, seed


def key(name: str, shape: str, rate: float, seed: int) -> Path:
    return CACHE / f"{name}_{shape.replace(' ', '_').replace('->', '-')}_{rate}_{seed}.npz"


def compute(args: argparse.Namespace) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    for name, frame, clean, shape, rate, seed in cells(SIZES, args.rates, args.seeds):
        path = key(name, shape, rate, seed)
        if path.exists():
            continue
        noisy = noise(frame["text"].tolist(), clean, shape, rate, seed)
        data = dataset(frame.assign(label=noisy), text=["text"], label="label")
        classes = sorted(set(noisy.tolist()))
        y = np.searchsorted(classes, noisy)
        ctx = ToolContext(cache_dir=EMBED_CACHE)
        views = {k: v.probs for k, v in build_views(data, y, len(classes), 5, ctx).items()}
        views.update(candidate_views(frame["text"].tolist(), y, len(classes), ctx))
        np.savez_compressed(path, y=y, clean=np.searchsorted(classes, clean) if set(clean) <= set(classes) else y,
                            errors=noisy != clean, **{f"view_{k}": v for k, v in views.items()})  # fmt: skip
        accuracy = {
            k: round(float((v.argmax(1) == np.searchsorted(classes, clean)).mean()), 3) for k, v in views.items()
        }
        print(name, shape, rate, seed, accuracy, flush=True)


def chunked(texts: list[str], ctx: ToolContext, words: int = 150) -> np.ndarray:
    """Mean of the embeddings of each text's windows of `words` words (a short text is one window)."""
    windows, owner = [], []
    for i, text in enumerate(texts):
        tokens = text.split()
        for start in range(0, max(len(tokens), 1), words):
            windows.append(" ".join(tokens[start : start + words]))
            owner.append(i)
    vectors = np.asarray(ctx.embedder.embed(windows), dtype=np.float64)
    sums = np.zeros((len(texts), vectors.shape[1]))
    np.add.at(sums, np.asarray(owner), vectors)
    return (sums / np.linalg.norm(sums, axis=1, keepdims=True)).astype(np.float32)


def candidate_views(texts: list[str], y: np.ndarray, n_classes: int, ctx: ToolContext) -> dict[str, np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from curation_tools.label_views import _oof

    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                            max_features=100_000).fit_transform(texts)  # fmt: skip
    out = {"char-lr": _oof(lambda: LogisticRegression(C=10.0, max_iter=500), chars, y, n_classes, 5, ctx, "char")}
    if np.mean([len(t.split()) for t in texts]) > 100:
        out["chunk-lr"] = _oof(
            lambda: LogisticRegression(C=1.0, max_iter=500), chunked(texts, ctx), y, n_classes, 5, ctx, "chunk"
        )
    return out
    return out


SIZES = {"clinc-multi": 3000, "clinc-small": 1500, "clinc-binary": 3000, "news-binary": 2000}


def rules(args: argparse.Namespace) -> None:
    out = []
    for path in sorted(CACHE.glob("*.npz")):
        saved = np.load(path)
        y, errors = saved["y"], saved["errors"]
        views = {k.removeprefix("view_"): saved[k] for k in saved.files if k.startswith("view_")}
        name = path.stem.split("_")[0]
        for mix in args.mixes.split(";"):
            chosen = {k: v for k, v in views.items() if k in mix.split("+")}
            if not chosen:
                continue
            ensemble = mixed(chosen, y)
            for rule, flags in flag_sets(ensemble).items():
                p, r, f = prf(flags, errors)
                out.append({"set": name, "cell": path.stem, "mix": mix, "rule": rule, "p": p, "r": r, "f1": f})
    table = pd.DataFrame(out)
    if args.rules:
        table = table[table["rule"].isin(args.rules.split(","))]
    summary = table.groupby(["set", "mix", "rule"])[["p", "r", "f1"]].agg(["mean", "min"]).round(3)
    print(summary.to_string())


def mixed(views: dict[str, np.ndarray], y: np.ndarray) -> Ensemble:
    from curation_tools.label_errors import view_weights
    from curation_tools.label_views import Views

    wrapped = {k: Views(v, (np.zeros((len(y), 1), int), np.zeros((len(y), 1)))) for k, v in views.items()}
    weights = view_weights(wrapped, y)
    probs = class_calibrated(sum(weights[k] * v for k, v in views.items()), y)
    return Ensemble(rows=[], classes=list(range(probs.shape[1])), y=y, probs=probs, views=wrapped, weights=weights)


def flag_sets(ensemble: Ensemble) -> dict[str, np.ndarray]:
    from cleanlab.count import num_label_issues

    from curation_tools.label_errors import MIN_CLAIM

    y, probs = ensemble.y, ensemble.probs
    out = {rule: flag_rows(ensemble, LabelErrorParams(rule=rule)) for rule in ("ratio", "estimate", "cleanlab")}
    chosen = label_errors.TYPICAL_QUANTILE
    for quantile in (0.0, 0.05, 0.25):
        label_errors.TYPICAL_QUANTILE = quantile
        out[f"estimate-typical{quantile}"] = flag_rows(ensemble, LabelErrorParams())
    label_errors.TYPICAL_QUANTILE = chosen
    given = probs[np.arange(len(y)), y]
    other = probs.copy()
    other[np.arange(len(y)), y] = -1
    margin = given - other.max(1)
    order = np.argsort(margin, kind="stable")
    count = num_label_issues(y, probs, estimation_method="off_diagonal_calibrated")
    claim = probs.max(1) >= MIN_CLAIM
    suggested = np.where(probs.argmax(1) != y, probs.argmax(1), np.argsort(-probs, 1)[:, 1])
    votes = np.stack([v.probs.argmax(1) for v in ensemble.views.values()])
    agree = (votes == suggested).all(0)
    most = (votes == suggested).sum(0) >= 2
    for factor in (0.5, 0.75, 1.0):
        top = np.zeros(len(y), bool)
        top[order[: round(factor * count)]] = True
        out[f"top{factor}|ratio"] = (top & (margin < 0)) | out["ratio"]
        out[f"top{factor}&claim|ratio"] = (top & (margin < 0) & claim) | out["ratio"]
        out[f"top{factor}&agree|ratio"] = (top & (margin < 0) & agree) | out["ratio"]
        out[f"top{factor}&most|ratio"] = (top & (margin < 0) & most) | out["ratio"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["views", "rules"])
    parser.add_argument("--rates", default="0.05,0.1,0.15")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--rules", default="", help="only these rules (comma-separated)")
    parser.add_argument("--mixes", default="embedding-lr+tfidf-lr+knn")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    args.seeds = [int(s) for s in args.seeds.split(",")]
    compute(args) if args.what == "views" else rules(args)


if __name__ == "__main__":
    main()
