"""The whole headless job on a planted subset of banking77: what an approve-all run leaves behind.

The subset: all 77 intents, 40 training queries each (3,080 rows), with 5% of labels flipped to another
intent, 60 reformatted copies of training rows (upper-cased or with a word added) and 60 banking77
test queries copied in (the benchmark is the test split). Built by the eval harness's task builder
(`copilot.evaluation.builders`, seed 0). `curate run --policy approve-all` runs on it with each choice
of what an approved flag does (`flags: keep | drop | relabel`). Figures, as in issue 19's acceptance:
flipped labels fixed or their row removed; copies and leaks removed; clean rows changed (dropped or
relabelled); clean rows are neither planted nor the original of a planted copy. Natural near copies of
test queries that banking77's own train split holds count as clean rows here.

    PYTHONWARNINGS=ignore python benchmarks/agent_run.py       # --per-class 40 --flags keep,drop,relabel
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from copilot.evaluation.builders import Plants, Source, build


def figures(train: pd.DataFrame, curated: pd.DataFrame, truth) -> dict[str, float]:
    flips, dups, leaks = truth.label_flips, truth.duplicates, truth.leaks
    fixed = sum(r not in curated.index or curated.loc[r, "label"] == right for r, right in flips.items())
    removed = sum(d not in curated.index or o not in curated.index for d, o in dups.items())
    removed += sum(leak not in curated.index for leak in leaks)
    planted = set(flips) | set(dups) | set(dups.values()) | set(leaks)
    clean = train[~train.index.isin(planted)]
    changed = sum(r not in curated.index or curated.loc[r, "label"] != row["label"] for r, row in clean.iterrows())
    return {
        "flips fixed or removed": fixed / len(flips),
        "copies and leaks removed": removed / (len(dups) + len(leaks)),
        "clean rows changed": changed / len(clean),
        "clean rows": len(clean),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--flags", default="keep,drop,relabel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        task = build(
            Source(kind="banking77", classes=77, per_class=args.per_class),
            Plants(label_flips=0.05, near_duplicates=60, leaks=60),
            seed=0,
            folder=work,
        )
        train = pd.read_csv(task.train, dtype=str).set_index("row_id")
        print(
            f"{len(train):,} rows: {len(task.truth.label_flips)} flipped labels, {len(task.truth.duplicates)} "
            f"copies, {len(task.truth.leaks)} leaks\n"
        )
        print("| approved flags | flips fixed or removed | copies and leaks removed | clean rows changed | time (s) |")
        print("|---|---|---|---|---|")
        for flags in args.flags.split(","):
            policy = work / f"{flags}.yaml"
            policy.write_text(f"default: approve\nflags: {flags}\n")
            out = work / f"run-{flags}"
            env = {**os.environ, "CURATE_CACHE_DIR": str(work / "cache")}
            start = time.perf_counter()
            command = [sys.executable, "-m", "copilot.cli", "run", task.train, "--benchmark"]
            command += [str(task.benchmark), "--policy", str(policy), "--out", str(out)]
            subprocess.run(command, check=True, env=env, capture_output=True)
            elapsed = time.perf_counter() - start
            curated = pd.read_csv(out / "curated.csv", dtype=str).set_index("row_id")
            f = figures(train, curated, task.truth)
            print(
                f"| {flags} | {f['flips fixed or removed']:.3f} | {f['copies and leaks removed']:.3f} | "
                f"{f['clean rows changed']:.3f} (of {f['clean rows']:,}) | {elapsed:.0f} |",
                flush=True,
            )
            summary = json.loads((out / "summary.json").read_text())
            print(f"|   ({flags}: changes {summary['changes']}, flagged {summary['flagged']}) | | | | |")


if __name__ == "__main__":
    main()
