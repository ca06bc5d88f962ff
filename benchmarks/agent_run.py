"""The whole headless job on a planted subset of banking77: what an approve-all run leaves behind.

The subset: all 77 intents, 40 training queries each (3,080 rows), with 5% of labels flipped to another
intent, 60 reformatted copies of training rows (upper-cased or with a word added) and 60 banking77
test queries copied in (the benchmark is the test split). Built by the eval harness's task builder
(`copilot.evaluation.builders`, seed 0). `curate run --policy approve-all --flags F` runs on it with each
choice of what an approved flag does (keep | drop | relabel). Figures, as in issue 19's acceptance:
flipped labels fixed or their row removed; copies and leaks removed; clean rows changed (dropped or
relabelled).

banking77 is not clean before planting: its train split holds natural near copies of its test queries
(contamination by decontam's definition, docs/ARCHITECTURE.md) and natural near duplicates of other
training rows. Removing one of those is the tools' job, not damage. So the clean rows are the rows that are
neither planted nor the original of a planted copy (2,861), and a change to one counts as damage unless it
removes a natural near copy; relabelling any of them is damage. This script finds the natural near copies
itself, by brute force and a looser rule than the tools' (word-level Levenshtein similarity >= 0.8 to a
test query, or to another training row of the same label), and prints how many there are and how many the
run removed; the "unplanted rows changed" column counts every change to a clean row, removals of natural
near copies included.

    PYTHONWARNINGS=ignore python benchmarks/agent_run.py       # --per-class 40 --flags keep,drop,relabel
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist

from copilot.evaluation.builders import Plants, Source, build

NEAR = 0.8  # word-level Levenshtein similarity of a natural near copy


def _word_strings(texts: list[str], vocabulary: dict[str, str]) -> list[str]:
    """Each text as a string of one character per word, so that rapidfuzz compares word sequences."""
    return [
        "".join(vocabulary.setdefault(w, chr(0xE000 + len(vocabulary))) for w in re.findall(r"\w+", t.lower()))
        for t in texts
    ]


def natural_copies(train: pd.DataFrame, unplanted: pd.Index, tests: list[str]) -> set[str]:
    """Unplanted rows that are near copies of a test query or of another training row with the same label."""
    vocabulary: dict[str, str] = {}
    rows = _word_strings(train.loc[unplanted, "text"].tolist(), vocabulary)
    items = _word_strings(tests, vocabulary)
    to_tests = cdist(rows, items, scorer=Levenshtein.normalized_similarity, score_cutoff=NEAR, workers=-1)
    among = cdist(rows, rows, scorer=Levenshtein.normalized_similarity, score_cutoff=NEAR, workers=-1)
    np.fill_diagonal(among, 0)
    labels = train.loc[unplanted, "label"].to_numpy()
    same_label = labels[:, None] == labels[None, :]
    natural = (to_tests > 0).any(axis=1) | ((among > 0) & same_label).any(axis=1)
    return set(unplanted[natural])


def figures(train: pd.DataFrame, curated: pd.DataFrame, truth, natural: set[str]) -> dict[str, float]:
    flips, dups, leaks = truth.label_flips, truth.duplicates, truth.leaks
    fixed = sum(r not in curated.index or curated.loc[r, "label"] == right for r, right in flips.items())
    removed = sum(d not in curated.index or o not in curated.index for d, o in dups.items())
    removed += sum(leak not in curated.index for leak in leaks)
    planted = set(flips) | set(dups) | set(dups.values()) | set(leaks)
    unplanted = train[~train.index.isin(planted)]
    dropped = {r for r in unplanted.index if r not in curated.index}
    relabelled = {
        r for r, row in unplanted.iterrows() if r in curated.index and curated.loc[r, "label"] != row["label"]
    }
    damaged = relabelled | (dropped - natural)  # removing a natural near copy is the tools' job, not damage
    return {
        "flips fixed or removed": fixed / len(flips),
        "copies and leaks removed": removed / (len(dups) + len(leaks)),
        "clean rows changed": len(damaged) / len(unplanted),
        "clean rows": len(unplanted),
        "unplanted rows changed": len(dropped | relabelled) / len(unplanted),
        "natural copies removed": len(dropped & natural),
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
        planted = set(task.truth.planted_rows) | set(task.truth.duplicates.values())
        tests = pd.read_json(str(task.benchmark).split(":")[0], lines=True)["text"].tolist()
        natural = natural_copies(train, train.index[~train.index.isin(planted)], tests)
        print(f"natural near copies among the {len(train) - len(planted):,} clean rows: {len(natural)}\n")
        print(
            "| approved flags | flips fixed or removed | copies and leaks removed | clean rows changed "
            "| every change to a clean row (natural copies removed) | time (s) |"
        )
        print("|---|---|---|---|---|---|")
        for flags in args.flags.split(","):
            out = work / f"run-{flags}"
            env = {**os.environ, "CURATE_CACHE_DIR": str(work / "cache")}
            start = time.perf_counter()
            command = [sys.executable, "-m", "copilot.cli", "run", task.train, "--benchmark"]
            command += [str(task.benchmark), "--policy", "approve-all", "--flags", flags, "--out", str(out)]
            subprocess.run(command, check=True, env=env, capture_output=True)
            elapsed = time.perf_counter() - start
            curated = pd.read_csv(out / "curated.csv", dtype=str).set_index("row_id")
            f = figures(train, curated, task.truth, natural)
            print(
                f"| {flags} | {f['flips fixed or removed']:.3f} | {f['copies and leaks removed']:.3f} | "
                f"{f['clean rows changed']:.3f} (of {f['clean rows']:,}) | {f['unplanted rows changed']:.3f} "
                f"({f['natural copies removed']}) | {elapsed:.0f} |",
                flush=True,
            )
            summary = json.loads((out / "summary.json").read_text())
            print(f"|   ({flags}: changes {summary['changes']}, flagged {summary['flagged']}) | | | | | |")


if __name__ == "__main__":
    main()
