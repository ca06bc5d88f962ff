"""Label errors as a grid, not a point: every noise shape, rate, size and seed, ours beside cleanlab's default.

For each set, a fixed shuffled order of its rows (the first SIZE rows are a size's sample, so embeddings are
computed once per set) and, per cell, noise drawn with the cell's seed:
- uniform: RATE of all rows relabelled to another class drawn uniformly;
- one-way: binary sets, RATE of one class relabelled the other (both directions, as two shapes); many-class sets,
  RATE of the rows of half the classes (drawn per seed) moved each to one other class (a fixed random map);
- confusable: many-class sets, RATE of all rows moved to their class's most confusable class (out-of-fold
  TF-IDF + LR on the clean labels, as label_noise.py).
Per cell: precision, recall and F1 of the flags, ours (the tool's defaults) and cleanlab's default (TF-IDF +
LogisticRegression, 5-fold out-of-fold probabilities, find_label_issues). Per set and shape: the mean over cells,
the worst cell of ours, and the cells where ours is behind. The sets are the reported ones; the tool was tuned on
CLINC150 (benchmarks/README.md), disjoint from all of them.

    PYTHONWARNINGS=ignore python benchmarks/label_grid.py --sets sms,imdb --sizes 2000 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).parent))
from jsonl import records
from label_errors import cleanlab_default, dataset, prf
from label_noise import most_confusable

from curation_tools.context import ToolContext
from curation_tools.label_errors import LabelErrorParams, ensemble_probabilities, flag_rows

CACHE = Path(__file__).parent / ".cache" / "label_noise"  # the same embedding cache as label_noise.py
RATES = (0.05, 0.08, 0.10, 0.15)


def load(shared: Path, name: str) -> pd.DataFrame:
    """The set's rows (text, label) in a fixed shuffled order."""
    if name == "sms":
        frame = pd.DataFrame(records(shared / "sms_spam/sms_spam.jsonl"))[["text", "label"]]
    elif name == "imdb":
        frame = pd.DataFrame(records(shared / "imdb/imdb_test.jsonl.gz"))[["text", "label"]]
    elif name == "banking77":
        frame = pd.DataFrame(records(shared / "banking77/banking77_train.jsonl"))[["text", "label"]]
    else:
        raise SystemExit(f"unknown set {name!r}: sms, imdb or banking77")
    frame["label"] = frame["label"].astype(str)
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


def shapes(labels: np.ndarray) -> list[str]:
    classes = sorted(set(labels.tolist()))
    if len(classes) == 2:
        return ["uniform", f"one-way {classes[0]}->{classes[1]}", f"one-way {classes[1]}->{classes[0]}"]
    return ["uniform", "one-way", "confusable"]


def noise(texts: list[str], labels: np.ndarray, shape: str, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    classes = np.asarray(sorted(set(labels.tolist())))
    noisy = labels.copy()
    if shape == "uniform":
        for i in rng.choice(len(labels), round(rate * len(labels)), replace=False):
            noisy[i] = rng.choice(classes[classes != labels[i]])
    elif shape.startswith("one-way ") and "->" in shape:
        source, target = shape.removeprefix("one-way ").split("->")
        rows = np.flatnonzero(labels == source)
        noisy[rng.choice(rows, round(rate * len(rows)), replace=False)] = target
    elif shape == "one-way":
        moved = rng.choice(classes, len(classes) // 2, replace=False)
        target = {c: rng.choice(classes[classes != c]) for c in moved}
        rows = np.flatnonzero(np.isin(labels, moved))
        for i in rng.choice(rows, round(rate * len(rows)), replace=False):
            noisy[i] = target[labels[i]]
    else:  # confusable
        confused = most_confusable(texts, labels)
        for i in rng.choice(len(labels), round(rate * len(labels)), replace=False):
            noisy[i] = confused[labels[i]]
    return noisy


def cell(frame: pd.DataFrame, noisy: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    errors = noisy != clean
    codes = np.unique(noisy, return_inverse=True)[1]
    peer_flags, _, peer_s = cleanlab_default(TfidfVectorizer().fit_transform(frame["text"]), codes)
    data = dataset(frame.assign(label=noisy), text=["text"], label="label")
    start = time.perf_counter()
    ensemble = ensemble_probabilities(data, LabelErrorParams(), ToolContext(cache_dir=CACHE))
    ours = flag_rows(ensemble, LabelErrorParams())
    ours_s = time.perf_counter() - start
    p, r, f = prf(ours, errors)
    pp, pr, pf = prf(peer_flags, errors)
    return {"p": p, "r": r, "f1": f, "peer_p": pp, "peer_r": pr, "peer_f1": pf, "s": ours_s, "peer_s": peer_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--sets", default="sms,imdb,banking77")
    parser.add_argument("--sizes", default="2000,4000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--rates", default=",".join(str(r) for r in RATES))
    parser.add_argument("--shapes", default="", help="only these shapes, comma-separated (default: every one)")
    parser.add_argument("--cells", type=Path, help="also write every cell as CSV here")
    args = parser.parse_args()
    out = []
    print("| set | size | shape | rate | seed | ours P / R / F1 | cleanlab default P / R / F1 | ours - cleanlab |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        rows = load(args.shared, name)
        for size in (int(s) for s in args.sizes.split(",")):
            frame = rows.head(size).reset_index(drop=True)
            clean = frame["label"].to_numpy()
            for shape in [s for s in shapes(clean) if not args.shapes or s in args.shapes.split(",")]:
                for rate in (float(r) for r in args.rates.split(",")):
                    for seed in (int(s) for s in args.seeds.split(",")):
                        noisy = noise(frame["text"].tolist(), clean, shape, rate, seed)
                        found = cell(frame, noisy, clean)
                        out.append({"set": name, "size": size, "shape": shape, "rate": rate, "seed": seed, **found})
                        print(
                            f"| {name} | {size} | {shape} | {rate:.2f} | {seed} "
                            f"| {found['p']:.3f} / {found['r']:.3f} / {found['f1']:.3f} "
                            f"| {found['peer_p']:.3f} / {found['peer_r']:.3f} / {found['peer_f1']:.3f} "
                            f"| {found['f1'] - found['peer_f1']:+.3f} |",
                            flush=True,
                        )
    cells = pd.DataFrame(out)
    if args.cells:
        cells.to_csv(args.cells, index=False)
    cells["gap"] = cells["f1"] - cells["peer_f1"]
    print("\n| set | shape | cells | ours F1 mean | cleanlab F1 mean | gap mean | worst gap | ours worst F1 "
          "| cells behind | ours min precision (rate >= 5%) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (name, shape), group in cells.groupby(["set", "shape"], sort=False):
        print(
            f"| {name} | {shape} | {len(group)} | {group['f1'].mean():.3f} | {group['peer_f1'].mean():.3f} "
            f"| {group['gap'].mean():+.3f} | {group['gap'].min():+.3f} | {group['f1'].min():.3f} "
            f"| {int((group['gap'] < 0).sum())} | {group['p'].min():.3f} |"
        )


if __name__ == "__main__":
    main()
