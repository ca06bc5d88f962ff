"""Speed of the everyday commands, stage by stage, beside the peer a user would otherwise run.

Sizes: the bundled example (512 support tickets against examples/bank_eval.jsonl), 10k rows (banking77
train, 10,003 queries, against banking77 test) and 100k rows (distinct real texts from ../shared/data
against MMLU test; no labels, so no label-errors stage). Every run of ours starts with a fresh embedding
cache, as a new user's first run does. Peers: datasketch MinHashLSH (5-word shingles, 128 permutations,
the same threshold) for dedup, the 13-gram rule of lm-evaluation-harness for decontam, cleanlab's default
pipeline (TF-IDF + LogisticRegression, 5-fold cross_val_predict, find_label_issues) for label errors.
`curate run` is the whole headless job (plan, every tool, approve-all, write-back) as a subprocess.

    PYTHONWARNINGS=ignore python benchmarks/everyday.py      # --sizes example,10k,100k --runs 3 --runs-100k 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).parent))
from decontam import real_texts, thirteen_gram
from dedup import datasketch_recipe
from label_errors import cleanlab_default

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.io import load_dataset
from curation_tools.registry import get_tool, run_tool

ROOT = Path(__file__).resolve().parents[1]


def median_time(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ours(tool: str, data: Dataset, **params) -> Callable[[], object]:
    spec = get_tool(tool)

    def work() -> object:
        with tempfile.TemporaryDirectory() as cache:
            return run_tool(spec, data, spec.params_model(**params), ToolContext(cache_dir=Path(cache)))

    return work


def curate_run(data: Path, benchmark: str, extra: list[str]) -> Callable[[], object]:
    def work() -> object:
        with tempfile.TemporaryDirectory() as folder:
            env = {**os.environ, "CURATE_CACHE_DIR": str(Path(folder) / "cache")}
            command = [sys.executable, "-m", "copilot.cli", "run", str(data), "--benchmark", benchmark, *extra]
            command += ["--policy", "approve-all", "--out", str(Path(folder) / "run")]
            return subprocess.run(command, check=True, env=env, capture_output=True)

    return work


def texts_dataset(texts: list[str]) -> Dataset:
    import pandas as pd

    frame = pd.DataFrame({"text": texts}, index=pd.Index([str(i) for i in range(len(texts))], name="row_id"))
    return Dataset(frame=frame, roles=Roles(text=["text"]), source=DataSource(path="<benchmark>", format="jsonl"))


def stages(data: Dataset, benchmark: str, labelled: bool) -> list[tuple[str, Callable, Callable | None]]:
    texts = data.texts().tolist()
    near = get_tool("dedup").params_model().near_threshold
    rows: list[tuple[str, Callable, Callable | None]] = [
        ("profile", ours("profile", data), None),
        (
            "dedup (exact + near) vs datasketch MinHashLSH",
            ours("dedup", data, method=["exact", "near"]),
            lambda: datasketch_recipe(texts, near),
        ),
        (
            "decontam (defaults) vs 13-gram rule",
            ours("decontam", data, benchmark=[benchmark]),
            lambda: thirteen_gram(texts, [benchmark]),
        ),
    ]
    if labelled:
        codes = np.unique(data.labels().astype(str).to_numpy(), return_inverse=True)[1]
        rows.append(
            (
                "label-errors (defaults, embedding included) vs cleanlab default (TF-IDF + LR)",
                ours("label-errors", data),
                lambda: cleanlab_default(TfidfVectorizer().fit_transform(texts), codes),
            )
        )
    return rows


def measure(label: str, data: Dataset, benchmark: str, runs: int, job: Callable | None) -> None:
    print(f"\n{label}: {len(data):,} rows, median of {runs} run(s)\n", flush=True)
    print("| stage | ours (s) | peer (s) | ratio ours / peer |\n|---|---|---|---|")
    for name, our_work, peer_work in stages(data, benchmark, labelled=data.roles.label is not None):
        our_s = median_time(our_work, runs)
        if peer_work is None:
            print(f"| {name} | {our_s:.2f} | - | - |", flush=True)
            continue
        peer_s = median_time(peer_work, runs)
        print(f"| {name} | {our_s:.2f} | {peer_s:.2f} | {our_s / peer_s:.1f}x |", flush=True)
    if job is not None:
        job_s = median_time(job, runs)
        print(f"| `curate run` end to end, approve-all (subprocess) | {job_s:.2f} | - | - |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sizes", default="example,10k,100k")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--runs-100k", type=int, default=1)
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    if "example" in sizes:
        path, bench = ROOT / "examples/support_tickets.csv", str(ROOT / "examples/bank_eval.jsonl") + ":query"
        data, _ = load_dataset(path)
        measure("bundled example", data, bench, args.runs, curate_run(path, bench, []))
    if "10k" in sizes:
        path = args.shared / "banking77/banking77_train.jsonl"
        bench = str(args.shared / "banking77/banking77_test.jsonl") + ":text"
        data, _ = load_dataset(path)
        measure("banking77 train", data, bench, args.runs, curate_run(path, bench, []))
    if "100k" in sizes:
        texts = real_texts(args.shared, 100_000)
        data = texts_dataset(texts)
        bench = str(args.shared / "mmlu/mmlu_test.jsonl.gz")
        measure("real texts (reviews, posts, queries)", data, bench, args.runs_100k, None)
    print(json.dumps({"cpus": os.cpu_count()}), file=sys.stderr)


if __name__ == "__main__":
    main()
