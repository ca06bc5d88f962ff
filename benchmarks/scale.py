"""Scale: wall time and peak memory of the heavy tools and of a whole run at 10k / 100k / 1M rows, local engine
against the Dask engine on this machine, beside the cleanlab and datasketch recipes (issue 23).

    python benchmarks/scale.py make --rows 1000000 --out /tmp/scale/1m.csv
    python benchmarks/scale.py make-dedup --rows 10000000 --out /tmp/scale/dedup10m.csv   # then `tool dedup` on it
    python benchmarks/scale.py tool label-errors /tmp/scale/1m.csv [--engine dask] [--rows 100000]
    python benchmarks/scale.py tool dedup /tmp/scale/1m.csv
    python benchmarks/scale.py tool label-errors /tmp/scale/100k.csv --param embedding=static
    python benchmarks/scale.py peer cleanlab /tmp/scale/1m.csv --rows 100000
    python benchmarks/scale.py peer datasketch /tmp/scale/1m.csv --rows 100000
    python benchmarks/scale.py run /tmp/scale/1m.csv --out /tmp/scale/run1m

The data: labelled short texts from ../shared/data (banking77 train and CLINC150: 227 intents), each row two
different queries of one intent joined ("... ? ..."), so rows are distinct and not near copies of each other
(two rows share at most one query: a third of their shingles), and 2% of the labels flipped to another intent
(the truth is written beside the CSV). Peak memory is the largest resident set of this process plus its
children (worker processes, the Dask cluster's workers), sampled every 0.2 s. Set CURATE_CACHE_DIR to an
empty folder for a cold embedding cache; the embedding time is reported on its own line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCES = [("banking77/banking77_train.jsonl", "banking77"), ("clinc150/clinc150_full.jsonl", "clinc150")]
FLIP_RATE = 0.02


def make(rows: int, out: Path, seed: int = 0) -> None:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for relative, prefix in SOURCES:
        for line in (SHARED / relative).read_text().splitlines():
            record = json.loads(line)
            by_intent[f"{prefix}:{record['label_name']}"].append(record["text"].strip())
    rng = random.Random(seed)
    intents = sorted(by_intent)
    quota = -(-rows * 11 // (10 * len(intents)))  # a tenth over: some intents have too few queries for it
    texts, labels = [], []
    for intent in intents:
        queries = sorted(set(by_intent[intent]))
        pairs = [(i, j) for i in range(len(queries)) for j in range(i + 1, len(queries))]
        for i, j in rng.sample(pairs, min(quota, len(pairs))):
            first, second = (queries[i], queries[j]) if rng.random() < 0.5 else (queries[j], queries[i])
            texts.append(f"{first.rstrip('?.!')}? {second}")
            labels.append(intent)
    order = rng.sample(range(len(texts)), min(rows, len(texts)))
    frame = pd.DataFrame({"id": [f"r{n}" for n in range(len(order))], "text": [texts[k] for k in order]})
    frame["label"] = [labels[k] for k in order]
    flipped = rng.sample(range(len(frame)), int(FLIP_RATE * len(frame)))
    truth = {}
    for row in flipped:
        truth[frame.at[row, "id"]] = frame.at[row, "label"]
        frame.at[row, "label"] = rng.choice([i for i in intents if i != frame.at[row, "label"]])
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    out.with_suffix(".truth.json").write_text(json.dumps(truth))
    print(f"{len(frame):,} rows, {frame['label'].nunique()} intents, {len(truth):,} flipped -> {out}")


class Memory:
    """Peak resident set of this process and its children, and each stage's own peak."""

    def __init__(self, pid: int | None = None) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self.stage = "start"
        self.stage_peak: dict[str, int] = defaultdict(int)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def rss(self) -> int:
        total = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):  # a worker that just exited
                total += process.memory_info().rss
        return total

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            now = self.rss()
            self.peak = max(self.peak, now)
            self.stage_peak[self.stage] = max(self.stage_peak[self.stage], now)

    def __enter__(self) -> Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def load(path: Path, rows: int | None):
    from curation_tools.io import load_dataset

    data, _ = load_dataset(path)
    return data if rows is None else data.with_frame(data.frame.iloc[:rows])


def tool(name: str, path: Path, rows: int | None, engine: str, params: list[str]) -> None:
    from curation_tools.context import ToolContext
    from curation_tools.engine import close_engines
    from curation_tools.registry import get_tool, run_tool

    data = load(path, rows)
    spec = get_tool(name)
    stages: dict[str, list[float]] = {}
    started = time.perf_counter()
    with Memory() as memory:

        def progress(stage: str, done: int, total: int | None) -> None:
            now = time.perf_counter() - started
            if stage not in stages:
                if memory.stage in stages:  # the stage before, as it ends (a long run can be read while it runs)
                    print(
                        f"    ... {memory.stage} done at {now:.0f} s, "
                        f"peak {memory.stage_peak[memory.stage] / 2**30:.2f} GB",
                        flush=True,
                    )
                stages[stage] = [now, now]
                memory.stage = stage
            stages[stage][1] = now

        ctx = ToolContext(cache_dir=_cache(), progress=progress, engine_spec=engine)
        values = dict(p.split("=", 1) for p in params)
        result = run_tool(spec, data, spec.params_model.model_validate(values), ctx)
        elapsed = time.perf_counter() - started
        close_engines()
    print(f"| {name} | {len(data):,} | {engine} | {elapsed:.0f} s | {memory.peak / 2**30:.2f} GB |")
    for stage, (first, last) in stages.items():
        print(f"    {stage}: {first:.0f}-{last:.0f} s, peak {memory.stage_peak[stage] / 2**30:.2f} GB")
    _quality(result, path, data)


def make_dedup(rows: int, out: Path) -> None:
    """The near-duplicate set of `benchmarks/dedup.py --parts sizes` (documents of three real short texts, 2%
    followed by a held-out near copy) as a CSV, its true clusters beside it."""
    from dedup import short_set

    texts, clusters = short_set(SHARED, rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": [f"r{n}" for n in range(rows)], "text": texts}).to_csv(out, index=False)
    np.save(out.with_suffix(".clusters.npy"), np.asarray(clusters, dtype=np.int64))
    print(f"{rows:,} rows, {rows - len(set(clusters)):,} planted near copies -> {out}")


def _quality(result, path: Path, data) -> None:
    clusters_file = path.with_suffix(".clusters.npy")
    if result.proposal.tool == "dedup" and clusters_file.exists():
        from dedup import score

        position = {row_id: n for n, row_id in enumerate(data.row_ids)}
        dropped = {position[f.row_id] for f in result.proposal.findings if f.action.type == "drop"}
        p, r, f = score(dropped, np.load(clusters_file).tolist())
        print(f"    {len(dropped):,} rows dropped: precision {p:.3f}, recall {r:.3f}, F1 {f:.3f} on the planted copies")
        return
    truth_file = path.with_suffix(".truth.json")
    if result.proposal.tool != "label-errors" or not truth_file.exists():
        print(f"    {len(result.proposal.findings):,} findings")
        return
    truth = set(json.loads(truth_file.read_text())) & set(data.row_ids)
    flagged = {f.row_id for f in result.proposal.findings}
    hits = len(flagged & truth)
    print(
        f"    {len(flagged):,} flagged, {len(truth):,} planted flips: precision {hits / max(len(flagged), 1):.3f}, "
        f"recall {hits / max(len(truth), 1):.3f}"
    )


def _cache() -> Path:
    from copilot.core.config import Settings

    return Settings().cache_dir


def peer(name: str, path: Path, rows: int | None) -> None:
    data = load(path, rows)
    texts = data.texts().tolist()
    started = time.perf_counter()
    with Memory() as memory:
        found = (
            _cleanlab(texts, data.labels().to_numpy(), data.row_ids, path) if name == "cleanlab" else _datasketch(texts)
        )
        elapsed = time.perf_counter() - started
    print(f"| {name} recipe | {len(texts):,} | - | {elapsed:.0f} s | {memory.peak / 2**30:.2f} GB | {found}")


def _cleanlab(texts: list[str], labels: np.ndarray, row_ids: list[str], path: Path) -> str:
    """cleanlab's documented text recipe: out-of-fold probabilities of logistic regression on TF-IDF (5 folds),
    then find_label_issues."""
    from cleanlab.filter import find_label_issues
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    y = pd.factorize(labels, sort=True)[0]
    x = TfidfVectorizer().fit_transform(texts)
    probs = cross_val_predict(LogisticRegression(max_iter=500), x, y, cv=5, method="predict_proba")
    flags = find_label_issues(y, probs)
    truth = set(json.loads(path.with_suffix(".truth.json").read_text())) & set(row_ids)
    flagged = {row_ids[i] for i in np.flatnonzero(flags)}
    hits = len(flagged & truth)
    return (
        f"{len(flagged):,} flagged: precision {hits / max(len(flagged), 1):.3f}, recall {hits / max(len(truth), 1):.3f}"
    )


def _datasketch(texts: list[str]) -> str:
    """datasketch's recipe: word 5-gram MinHash (128 permutations) into MinHashLSH at 0.8, query each row."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    hashes = []
    for n, text in enumerate(texts):
        words = text.lower().split()
        minhash = MinHash(num_perm=128)
        minhash.update_batch([" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4))])
        lsh.insert(str(n), minhash)
        hashes.append(minhash)
    duplicates = sum(len(lsh.query(m)) > 1 for m in hashes)
    return f"{duplicates:,} rows with a near duplicate"


def run(path: Path, out: Path, engine: str) -> None:
    """`curate run --policy approve-all` through the Session API in this process, so every progress event (the
    ones events.jsonl keeps and the ones it does not) is timed."""
    from copilot.core.config import Settings
    from copilot.review.policy import load_policy
    from copilot.run.run_config import RunConfig
    from copilot.run.session import Session

    settings = Settings()
    settings.engine = engine  # type: ignore[assignment]
    config = RunConfig(data=str(path.resolve()), policy=load_policy("approve-all", None))
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    times, kinds, tools = [], [], {}
    stage_time: dict[str, float] = defaultdict(float)
    with Memory() as memory:
        session = Session.start(config, out, settings)
        for event in session.events():
            now = time.perf_counter() - started
            stage_time[memory.stage] += now - (times[-1] if times else 0.0)
            times.append(now)
            kinds.append(f"{event.kind} ({memory.stage})")
            if event.kind == "progress":
                memory.stage = f"{event.data.tool}: {event.data.stage}"
            elif event.kind == "proposal_ready":
                tools[event.data.tool] = (event.data.elapsed_s, event.data.findings)
        elapsed = time.perf_counter() - started
    gaps = np.diff([0.0, *times])
    summary = json.loads((out / "summary.json").read_text())
    print(
        f"| curate run (approve-all) | {summary['rows_in']:,} | {engine} | {elapsed:.0f} s "
        f"| {memory.peak / 2**30:.2f} GB |"
    )
    worst = int(gaps.argmax())
    after = kinds[worst - 1] if worst else "the start"
    print(
        f"    {len(times):,} events, the first at {times[0]:.0f} s, longest gap {gaps.max():.0f} s "
        f"(after {after}, before {kinds[worst]}, at {times[worst]:.0f} s)"
    )
    print(f"    {summary['changes']}")
    for tool_name, (seconds, findings) in tools.items():
        print(f"    {tool_name}: {seconds:.0f} s, {findings:,} findings")
    for stage, peak in memory.stage_peak.items():
        print(f"    {stage}: {stage_time[stage]:.0f} s, peak {peak / 2**30:.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["make", "make-dedup", "tool", "peer", "run"])
    parser.add_argument("name_or_data", nargs="?", help="tool/peer: the tool or peer name; run: the data")
    parser.add_argument("data", nargs="?", type=Path)
    parser.add_argument("--rows", type=int, default=None, help="make: rows to write; tool/peer: the first N rows")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--engine", default="local", choices=["local", "dask"])
    parser.add_argument("--param", action="append", default=[], help="tool: a parameter as KEY=VALUE (repeatable)")
    args = parser.parse_args()
    if args.what == "make":
        make(args.rows or 1_000_000, args.out)
    elif args.what == "make-dedup":
        make_dedup(args.rows or 1_000_000, args.out)
    elif args.what == "tool":
        tool(args.name_or_data, args.data, args.rows, args.engine, args.param)
    elif args.what == "peer":
        peer(args.name_or_data, args.data, args.rows)
    else:
        run(Path(args.name_or_data), args.out, args.engine)


if __name__ == "__main__":
    main()
