"""Label errors on tabular data as a user runs them: `curate tools label-errors` from the command line, start-up
included, beside Python scripts running cleanlab's default pipeline, all as fresh processes: `CleanLearning` (its
`find_label_issues` with its defaults: scikit-learn's default LogisticRegression, 5 folds) and `tutorial` (5-fold
`cross_val_predict` of the same LogisticRegression, then `cleanlab.filter.find_label_issues`).

    python benchmarks/tabular_cli.py [--runs 3]

scikit-learn's wine, breast_cancer and digits tables with 10% of the labels flipped (seed 0); F1 of each against the
flips; wall times are medians of --runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from label_errors import flip
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

PEERS = {
    "CleanLearning": """
import json, sys
import pandas as pd
from cleanlab.classification import CleanLearning

frame = pd.read_csv(sys.argv[1])
x, y = frame.drop(columns=["label"]).to_numpy(), frame["label"].to_numpy()
issues = CleanLearning().find_label_issues(x, y)  # cleanlab's defaults: LogisticRegression, 5 folds
json.dump([int(i) for i in issues.index[issues["is_label_issue"]]], open(sys.argv[2], "w"))
""",
    "tutorial": """
import json, sys
import pandas as pd
from cleanlab.filter import find_label_issues
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

frame = pd.read_csv(sys.argv[1])
x, y = frame.drop(columns=["label"]).to_numpy(), frame["label"].to_numpy()
probs = cross_val_predict(LogisticRegression(), x, y, cv=5, method="predict_proba")
json.dump([int(i) for i in find_label_issues(y, probs).nonzero()[0]], open(sys.argv[2], "w"))
""",
}


def timed(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def f1(flagged: set[int], errors: set[int]) -> float:
    hit = len(flagged & errors)
    return 2 * hit / (len(flagged) + len(errors)) if flagged or errors else 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    curate = shutil.which("curate") or sys.exit("curate is not on PATH: activate the environment")
    print(
        "| table | rows | ours (CLI) s | "
        + " | ".join(f"{p} s | ratio" for p in PEERS)
        + " | F1 ours | "
        + " | ".join(f"F1 {p}" for p in PEERS)
        + " |"
    )
    print("|" + "---|" * (4 + 3 * len(PEERS)))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for peer, script in PEERS.items():
            (folder / f"{peer}.py").write_text(script)
        for name, loader in (("wine", load_wine), ("breast_cancer", load_breast_cancer), ("digits", load_digits)):
            bunch = loader()
            noisy = flip(bunch.target, 0.10, seed=0)
            errors = set(np.flatnonzero(noisy != bunch.target).tolist())
            frame = pd.DataFrame(bunch.data, columns=[f"f{i}" for i in range(bunch.data.shape[1])])
            data = folder / f"{name}.csv"
            frame.assign(label=noisy).to_csv(data, index=False)
            ours_out = folder / f"{name}.findings.jsonl"
            ours_s = timed(
                [curate, "tools", "label-errors", str(data), "--label", "label", "--out", str(ours_out)], args.runs
            )
            ours_flags = {int(json.loads(line)["row_id"]) for line in ours_out.read_text().splitlines()}
            times, scores = [], []
            for peer in PEERS:
                out = folder / f"{name}.{peer}.json"
                peer_s = timed([sys.executable, str(folder / f"{peer}.py"), str(data), str(out)], args.runs)
                times.append(f"{peer_s:.2f} | {ours_s / peer_s:.1f}x")
                scores.append(f"{f1(set(json.loads(out.read_text())), errors):.3f}")
            print(
                f"| {name} | {len(frame)} | {ours_s:.2f} | {' | '.join(times)} | {f1(ours_flags, errors):.3f} "
                f"| {' | '.join(scores)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
