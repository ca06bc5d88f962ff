"""Label errors under realistic noise, ours beside cleanlab's default pipeline in one run.

Uniform flips (benchmarks/label_errors.py) hide two things real noise does: it runs one way (spam
marked ham, never the reverse) and it goes to the class a person confuses a row with. Sets:
- SMS spam, 15% of the spam relabelled ham (class-conditional, binary);
- IMDB 4,000 reviews, 10% of the positive reviews relabelled negative (binary, long texts);
- banking77 train, 8% of rows flipped to their class's most confusable class (the class a TF-IDF +
  LogisticRegression model, out of fold on the clean labels, most often predicts for it);
- banking77, 40 rows per class (3,080 rows, 77 classes), 8% confusable flips: many classes, few rows;
- SMS spam as published (real noise, no ground truth): how many findings point each way.
Tuning happened on other data (CLINC150 imbalanced train, see benchmarks/README.md); these sets report.
Per set: precision, recall, F1 of the flags, and the direction balance of the findings (given -> suggested).

    PYTHONWARNINGS=ignore python benchmarks/label_noise.py      # --only sms,imdb,confusable,few,real
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from jsonl import records
from label_errors import cleanlab_default, dataset, prf

from curation_tools.context import ToolContext
from curation_tools.label_errors import LabelErrorParams, ensemble_probabilities, flag_rows

CACHE = Path(__file__).parent / ".cache" / "label_noise"  # embeddings kept between runs: times exclude them


def one_way(labels: np.ndarray, rate: float, source, target, seed: int = 0) -> np.ndarray:
    """`rate` of the rows labelled `source` relabelled `target`."""
    rng = np.random.default_rng(seed)
    noisy = labels.copy()
    rows = np.flatnonzero(labels == source)
    noisy[rng.choice(rows, round(rate * len(rows)), replace=False)] = target
    return noisy


def most_confusable(texts: list[str], labels: np.ndarray) -> dict:
    """Each class's most confused other class: out-of-fold TF-IDF + LR predictions on the clean labels."""
    with threadpool_limits(2):
        predicted = cross_val_predict(
            LogisticRegression(max_iter=1000),
            TfidfVectorizer().fit_transform(texts),
            labels,
            cv=StratifiedKFold(5, shuffle=True, random_state=0),
        )
    out = {}
    for label in np.unique(labels):
        wrong = Counter(predicted[(labels == label) & (predicted != label)].tolist())
        out[label] = wrong.most_common(1)[0][0] if wrong else np.unique(labels)[np.unique(labels) != label][0]
    return out


def confusable_flips(texts: list[str], labels: np.ndarray, rate: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    target = most_confusable(texts, labels)
    noisy = labels.copy()
    for i in rng.choice(len(labels), round(rate * len(labels)), replace=False):
        noisy[i] = target[labels[i]]
    return noisy


def noisy_sets(shared: Path) -> dict[str, tuple[pd.DataFrame, np.ndarray | None]]:
    """name -> (frame with text and the noisy label, clean labels or None where the truth is unknown)."""
    sms = pd.DataFrame(records(shared / "sms_spam/sms_spam.jsonl"))[["text", "label"]]
    imdb = pd.DataFrame(records(shared / "imdb/imdb_test.jsonl.gz"))[["text", "label"]]
    imdb = imdb.sample(4000, random_state=0).reset_index(drop=True)
    banking = pd.DataFrame(records(shared / "banking77/banking77_train.jsonl"))[["text", "label"]]
    few = banking.sample(frac=1, random_state=0).groupby("label").head(40).reset_index(drop=True)
    spam, ham = ("spam", "ham") if sms["label"].dtype == object else (1, 0)
    sets: dict[str, tuple[pd.DataFrame, np.ndarray | None]] = {}
    clean = sms["label"].to_numpy()
    sets["SMS spam, 15% of spam -> ham"] = (sms.assign(label=one_way(clean, 0.15, spam, ham)), clean)
    clean = imdb["label"].to_numpy()
    sets["IMDB 4,000 reviews, 10% of positive -> negative"] = (imdb.assign(label=one_way(clean, 0.10, 1, 0)), clean)
    clean = banking["label"].to_numpy()
    noisy = confusable_flips(banking["text"].tolist(), clean, 0.08)
    sets["banking77 train, 8% flips to the most confusable class"] = (banking.assign(label=noisy), clean)
    clean = few["label"].to_numpy()
    noisy = confusable_flips(few["text"].tolist(), clean, 0.08)
    sets["banking77, 40 rows per class, 8% confusable flips"] = (few.assign(label=noisy), clean)
    sets["SMS spam as published (real noise)"] = (sms, None)
    return sets


def directions(given: np.ndarray, suggested: np.ndarray) -> str:
    counts = Counter(zip(given.tolist(), suggested.tolist(), strict=True))
    if len(set(given.tolist()) | set(suggested.tolist())) <= 2:
        return ", ".join(f"{a}->{b}: {n}" for (a, b), n in sorted(counts.items(), key=str))
    top = counts.most_common(1)[0][1] if counts else 0
    return f"{len(counts)} directions, largest {top} of {len(given)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--only", default=None, help="comma-separated parts of set names")
    args = parser.parse_args()
    print(
        "| data | method | flags | precision | recall | F1 | directions of the flags (given -> suggested) | time (s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, (frame, clean) in noisy_sets(args.shared).items():
        if args.only and not any(part.lower() in name.lower() for part in args.only.split(",")):
            continue
        noisy = frame["label"].to_numpy()
        classes, codes = np.unique(noisy.astype(str), return_inverse=True)
        errors = None if clean is None else noisy != clean
        flags, probs, elapsed = cleanlab_default(TfidfVectorizer().fit_transform(frame["text"]), codes)
        ranked = np.argsort(-probs, axis=1)
        suggested = classes[np.where(ranked[:, 0] == codes, ranked[:, 1], ranked[:, 0])]
        results = [("cleanlab default (TF-IDF + LR)", flags, suggested, elapsed)]
        data = dataset(frame, text=["text"], label="label")
        start = time.perf_counter()
        ensemble = ensemble_probabilities(data, LabelErrorParams(), ToolContext(cache_dir=CACHE))
        ours = flag_rows(ensemble, LabelErrorParams())
        elapsed = time.perf_counter() - start
        ranked = np.argsort(-ensemble.probs, axis=1)
        top = np.where(ranked[:, 0] == ensemble.y, ranked[:, 1], ranked[:, 0])
        ours_suggested = np.asarray([str(ensemble.classes[i]) for i in top])
        results.append(("ours (defaults)", ours, ours_suggested, elapsed))
        for method, flagged, suggested, seconds in results:
            given = noisy.astype(str)[flagged]
            way = directions(given, suggested[flagged])
            if errors is None:
                print(f"| {name} | {method} | {int(flagged.sum())} | - | - | - | {way} | {seconds:.1f} |", flush=True)
                continue
            p, r, f = prf(flagged, errors)
            scores = f"{p:.3f} | {r:.3f} | **{f:.3f}**"
            print(f"| {name} | {method} | {int(flagged.sum())} | {scores} | {way} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
