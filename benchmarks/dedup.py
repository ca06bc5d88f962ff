"""Near-duplicate detection: our dedup tool vs the usual datasketch recipe, side by side in one run.

The set: IMDB test reviews (../shared/data/imdb), distinct after normalisation, plus one planted copy
of some of them, each copy of a known kind: reformatted (case, spacing, line breaks, punctuation),
lightly edited (3-6% of words replaced, deleted or inserted), truncated (55-85% of the words kept),
or boilerplate-wrapped (a site header and footer). A dropped row is right when it has a true twin
that is kept. The datasketch recipe: word 5-gram shingles, MinHash (128 permutations), MinHashLSH at a
threshold, union-find over LSH hits, keep the first; at 0.8 (the usual default) and at the best
threshold found in a sweep. Throughput counts the near-duplicate stage alone, in documents per second.

    python benchmarks/dedup.py [--shared ../shared/data] [--originals 4000] [--copies 1000]
    python benchmarks/dedup.py --parts sizes --repeats 3     # short real texts at 10k, 100k, 1M (issue 38)
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from datasketch import MinHash, MinHashLSH
from jsonl import records
from scipy.cluster.hierarchy import DisjointSet

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.dedup import DedupParams
from curation_tools.dedup import run as run_dedup
from curation_tools.schema import ToolResult
from curation_tools.text import content_key

HEADERS = ["Review posted on MovieTalk forums:", "*** User review ***", "From the archive: reader reviews"]
FOOTERS = [
    "Was this review helpful? Sign in to vote.",
    "Posted from my phone. Rate this review!",
    "Copyright the author. All rights reserved. Share on social media.",
]
FILLER = ["really", "quite", "very", "just", "also", "so", "actually", "perhaps"]


def reformat(text: str, rng: random.Random) -> str:
    text = text.replace(". ", ".\n") if rng.random() < 0.5 else text.upper()
    return "  " + text.replace(",", " ,").replace("  ", " ") + " \n"


def edit(text: str, rng: random.Random) -> str:
    words = text.split()
    for _ in range(max(1, round(len(words) * rng.uniform(0.03, 0.06)))):
        i = rng.randrange(len(words))
        kind = rng.random()
        if kind < 0.4:
            words[i] = rng.choice(FILLER)
        elif kind < 0.7 and len(words) > 5:
            del words[i]
        else:
            words.insert(i, rng.choice(FILLER))
    return " ".join(words)


def truncate(text: str, rng: random.Random) -> str:
    words = text.split()
    return " ".join(words[: max(5, round(len(words) * rng.uniform(0.55, 0.85)))])


def wrap(text: str, rng: random.Random) -> str:
    return f"{rng.choice(HEADERS)}\n\n{text}\n\n{rng.choice(FOOTERS)}"


KINDS = {"reformatted": reformat, "edited": edit, "truncated": truncate, "wrapped": wrap}


CORPORA = {"imdb": "imdb/imdb_test.jsonl.gz", "20news": "20news/20news_train.jsonl.gz"}


def build(
    shared: Path, originals: int, copies: int, seed: int = 0, join: int = 1, corpus: str = "imdb"
) -> tuple[list[str], list[int], list[str]]:
    """Texts, their true cluster ids, and each row's kind ('original' or a copy kind).

    `join` > 1 makes each original document from that many reviews (about 230 words each).
    """
    reviews = [r["text"] for r in records(shared / CORPORA[corpus])]
    rng = random.Random(seed)
    if join > 1:
        reviews = ["\n\n".join(reviews[i : i + join]) for i in range(0, len(reviews) - join + 1, join)]
    seen, pool = set(), []
    for text in rng.sample(reviews, len(reviews)):
        key = content_key(text)
        if key not in seen and len(text.split()) >= 40:
            seen.add(key)
            pool.append(text)
        if len(pool) == originals:
            break
    rows = [(text, i, "original") for i, text in enumerate(pool)]
    kinds = list(KINDS)
    for n, i in enumerate(rng.sample(range(len(pool)), copies)):
        kind = kinds[n % len(kinds)]
        rows.append((KINDS[kind](pool[i], rng), i, kind))
    rng.shuffle(rows)
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def score(dropped: set[int], clusters: list[int]) -> tuple[float, float, float]:
    members: dict[int, list[int]] = {}
    for row, cluster in enumerate(clusters):
        members.setdefault(cluster, []).append(row)
    right = sum(1 for r in dropped if any(m not in dropped for m in members[clusters[r]] if m != r))
    should = sum(len(m) - 1 for m in members.values())
    precision = right / max(len(dropped), 1)
    recall = right / max(should, 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-12)


def datasketch_recipe(texts: list[str], threshold: float, num_perm: int = 128) -> tuple[set[int], float]:
    start = time.perf_counter()
    hashes = []
    for text in texts:
        words = text.split()
        grams = {" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4))}
        minhash = MinHash(num_perm=num_perm)
        minhash.update_batch(list(grams))
        hashes.append(minhash)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sets = DisjointSet(range(len(texts)))
    for i, minhash in enumerate(hashes):
        for j in lsh.query(minhash):
            sets.merge(i, j)
        lsh.insert(i, minhash)
    dropped = {m for s in sets.subsets() for m in sorted(s)[1:]}
    return dropped, time.perf_counter() - start


def timed_run(texts: list[str], params: DedupParams) -> tuple[ToolResult, float]:
    """The dedup tool on texts (row ids are their positions) with a fresh cache, and its time in seconds."""
    frame = pd.DataFrame({"text": texts}).set_axis(pd.Index([str(i) for i in range(len(texts))], name="row_id"))
    data = Dataset(frame=frame, roles=Roles(text=["text"]), source=DataSource(path="<benchmark>", format="csv"))
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        result = run_dedup(data, params, ToolContext(cache_dir=Path(cache)))
        return result, time.perf_counter() - start


def ours(texts: list[str], params: DedupParams) -> tuple[set[int], float]:
    result, elapsed = timed_run(texts, params)
    return {int(f.row_id) for f in result.findings if f.action.type == "drop"}, elapsed


def semantic_part(shared: Path, thresholds: list[float]) -> None:
    """GSM8K test questions and their rephrasings mixed into GSM8K train: pair recall and false pairs."""
    train = [r["question"] for r in records(shared / "gsm8k/gsm8k_train.jsonl")]
    pairs = records(shared / "decontam_groundtruth/gsm8k_test_rephrased_pairs.jsonl")
    texts = train + [p["original_question"] for p in pairs] + [p["rephrased_question"] for p in pairs]
    n, m = len(train), len(pairs)
    truth = {(n + i, n + m + i) for i in range(m)}
    print(f"\nsemantic: {n} GSM8K train questions + {m} test questions + their {m} rephrasings\n")
    print("| method | threshold | rephrase pairs found | false pairs | time (s) |\n|---|---|---|---|---|")
    near = DedupParams(method=["exact", "near"])
    runs = [("exact+near", f"near {near.near_threshold}", near)]
    for threshold in thresholds:
        runs.append(("semantic", str(threshold), DedupParams(method=["semantic"], semantic_threshold=threshold)))
    clustered = DedupParams(method=["semantic"], semantic_threshold=0.9, semantic_exact_max_rows=0)
    runs.append(("semantic, k-means clusters (forced; SemDeDup-style, as above 50k rows)", "0.9", clustered))
    for name, setting, params in runs:
        result, elapsed = timed_run(texts, params)
        linked = {
            (min(int(f.row_id), int(f.evidence.duplicate_of)), max(int(f.row_id), int(f.evidence.duplicate_of)))
            for f in result.findings
            if f.evidence.duplicate_of
        }
        found = len(linked & truth)
        print(f"| ours, {name} | {setting} | {found} / {m} | {len(linked - truth)} | {elapsed:.0f} |", flush=True)


def real_groups(shared: Path) -> dict[str, tuple[list[str], list[set[int]]]]:
    """The byte-identical duplicate groups shipped with IMDB test and SMS spam, as sets of row positions."""
    imdb = [r["text"] for r in records(shared / "imdb/imdb_test.jsonl.gz")]
    imdb_groups = [
        {i for rows in r["idx_in_index_map"] for i in rows}
        for r in records(shared / "imdb/imdb_test_exact_duplicate_groups.jsonl")
    ]
    sms = [r["text"] for r in records(shared / "sms_spam/sms_spam.jsonl")]
    sms_groups = [set(r["idx"]) for r in records(shared / "sms_spam/sms_spam_exact_duplicate_groups.jsonl")]
    return {
        "IMDB test (25,000 reviews)": (imdb, [g for g in imdb_groups if len(g) > 1]),
        "SMS spam (5,574 messages)": (sms, [g for g in sms_groups if len(g) > 1]),
    }


def exact_part(shared: Path) -> None:
    """Recall of the real duplicate groups, and how many other rows each method drops."""
    print("\n| data | method | groups resolved | group rows dropped | other rows dropped | time (s) |")
    print("|---|---|---|---|---|---|")
    for name, (texts, groups) in real_groups(shared).items():
        in_group = set().union(*groups)
        runs = {
            "datasketch recipe, 0.8": datasketch_recipe(texts, 0.8),
            "ours, exact": ours(texts, DedupParams(method=["exact"])),
            "ours, exact + near (defaults)": ours(texts, DedupParams()),
        }
        for method, (dropped, elapsed) in runs.items():
            resolved = sum(len(g & dropped) >= len(g) - 1 for g in groups)
            right = sum(min(len(g & dropped), len(g) - 1) for g in groups)
            print(
                f"| {name} | {method} | {resolved} / {len(groups)} | {right} / {sum(len(g) - 1 for g in groups)} |"
                f" {len(dropped - in_group)} | {elapsed:.1f} |",
                flush=True,
            )


def scale_part(n: int) -> None:
    """1M synthetic short documents (5% planted near copies): time and peak memory of exact + near."""
    rng = random.Random(0)
    vocabulary = [f"w{i}" for i in range(20_000)]
    texts = [" ".join(rng.choices(vocabulary, k=rng.randint(8, 20))) for _ in range(n)]
    for i in rng.sample(range(n), n // 20):
        words = texts[i].split()
        words[rng.randrange(len(words))] = rng.choice(vocabulary)
        texts.append(" ".join(words))
    dropped, elapsed = ours(texts, DedupParams())
    print(
        f"\nscale: {len(texts):,} short synthetic documents ({n // 20:,} planted near copies): exact + near in "
        f"{elapsed:.0f} s ({len(texts) / elapsed:,.0f} docs/s), {len(dropped):,} rows dropped, peak RSS "
        f"{_peak_rss_mb() / 1024:.1f} GB (this process plus its largest worker)"
    )


SHORT_SOURCES = ["banking77/banking77_train.jsonl", "clinc150/clinc150_full.jsonl", "sms_spam/sms_spam.jsonl"]


def _typo(words: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) > 3:
        k = rng.randrange(len(w) - 1)
        words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    else:
        words[i] = w + w[-1]
    return words


def _drop_word(words: list[str], rng: random.Random) -> list[str]:
    del words[rng.randrange(len(words))]
    return words


def _add_word(words: list[str], rng: random.Random) -> list[str]:
    words.insert(rng.randrange(len(words) + 1), rng.choice(FILLER))
    return words


def _recase(words: list[str], rng: random.Random) -> list[str]:
    text = " ".join(words)
    text = text.lower() if rng.random() < 0.5 else text.capitalize()
    return [w.strip(",.!?") or w for w in text.split()]


SHORT_EDITS = {"typo": _typo, "word dropped": _drop_word, "word added": _add_word, "recased": _recase}
"""held out: neither the kinds nor the corpus the near-duplicate defaults were chosen on (IMDB, 20news)"""


def short_set(shared: Path, rows: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """`rows` documents of three real short texts (banking77, CLINC150, SMS spam: 4-20 words and at most 120
    characters, distinct after normalisation) joined, none of them over 45% of the document's characters and no
    two documents sharing two texts (so two documents are never most of each other), 2% of them followed by a near
    copy with one held-out edit; texts and their true cluster ids."""
    texts = {
        content_key(t): t for source in SHORT_SOURCES for r in records(shared / source) if (t := r["text"].strip())
    }
    pool = sorted(t for t in texts.values() if 4 <= len(t.split()) <= 20 and len(t) <= 120)
    rng = random.Random(seed)
    originals = rows - rows // 50
    used: set[int] = set()
    docs: list[str] = []
    while len(docs) < originals:
        picked = rng.sample(range(len(pool)), 3)
        keys = {
            min(a, b) * len(pool) + max(a, b)
            for a, b in ((picked[0], picked[1]), (picked[0], picked[2]), (picked[1], picked[2]))
        }
        lengths = [len(pool[k]) for k in picked]
        if used.isdisjoint(keys) and max(lengths) <= 0.45 * sum(lengths):
            used |= keys
            docs.append(" ".join(pool[k] for k in picked))
    clusters = list(range(originals))
    edits = list(SHORT_EDITS.values())
    for n, i in enumerate(rng.sample(range(originals), rows - originals)):
        docs.append(" ".join(edits[n % len(edits)](docs[i].split(), rng)))
        clusters.append(i)
    order = rng.sample(range(rows), rows)
    return [docs[k] for k in order], [clusters[k] for k in order]


def sizes_part(shared: Path, sizes: list[int], repeats: int) -> None:
    """Ours (exact + near, defaults, the whole tool) against the datasketch recipe at 0.8 on the same texts, at
    each size: median time of `repeats` interleaved runs (one at 1M and above), F1 on the planted copies."""
    print(
        "| rows | method | precision | recall | F1 | seconds (median) | ours faster by |\n|---|---|---|---|---|---|---|"
    )
    for rows in sizes:
        texts, clusters = short_set(shared, rows)
        times: dict[str, list[float]] = {"datasketch": [], "ours": []}
        quality = {}
        for _ in range(repeats if rows < 1_000_000 else 1):
            dropped, elapsed = datasketch_recipe(texts, 0.8)
            times["datasketch"].append(elapsed)
            quality["datasketch"] = score(dropped, clusters)
            dropped, elapsed = ours(texts, DedupParams())
            times["ours"].append(elapsed)
            quality["ours"] = score(dropped, clusters)
        median = {k: float(np.median(v)) for k, v in times.items()}
        for method in ("datasketch", "ours"):
            p, r, f = quality[method]
            label = "datasketch recipe, 0.8" if method == "datasketch" else "ours, exact + near (defaults)"
            ratio = f"{median['datasketch'] / median['ours']:.2f}x" if method == "ours" else ""
            print(f"| {rows:,} | {label} | {p:.3f} | {r:.3f} | {f:.3f} | {median[method]:.1f} | {ratio} |", flush=True)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process plus the largest of its (finished) worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (own + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--originals", type=int, default=4000)
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--sweep", type=str, default="0.3,0.4,0.5,0.6,0.7,0.8")
    parser.add_argument("--parts", type=str, default="near,exact,semantic", help="near, exact, semantic, scale, sizes")
    parser.add_argument("--sizes", type=str, default="10000,100000,1000000", help="sizes: rows of each set")
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--join", type=int, default=1, help="reviews per document (4 gives ~1,000 words)")
    parser.add_argument(
        "--corpus", choices=list(CORPORA), default="imdb", help="20news (train posts): the tuning set for defaults"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each method (median reported)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "near" in parts:
        near_part(args)
    if "exact" in parts:
        exact_part(args.shared)
    if "semantic" in parts:
        semantic_part(args.shared, [0.95, 0.9, 0.85])
    if "scale" in parts:
        scale_part(args.scale)
    if "sizes" in parts:
        sizes_part(args.shared, [int(n) for n in args.sizes.split(",")], args.repeats)


def near_part(args: argparse.Namespace) -> None:
    texts, clusters, kinds = build(args.shared, args.originals, args.copies, join=args.join, corpus=args.corpus)
    print(
        f"near-duplicate set: {len(texts)} {args.corpus} documents, {args.copies} planted copies "
        f"(mean {np.mean([len(t.split()) for t in texts]):.0f} words)\n"
    )
    results = {}
    for threshold in [float(t) for t in args.sweep.split(",")]:
        dropped, _ = datasketch_recipe(texts, threshold)
        results[threshold] = score(dropped, clusters)
    best = max(results, key=lambda t: results[t][2])
    # throughput: the three contenders interleaved, `--repeats` times, median (one run is too noisy on 2 cores)
    timings: dict[str, list[float]] = {"ds_0.8": [], "ds_best": [], "ours": []}
    for _ in range(args.repeats):
        timings["ds_0.8"].append(datasketch_recipe(texts, 0.8)[1])
        timings["ds_best"].append(datasketch_recipe(texts, best)[1])
        dropped, elapsed = ours(texts, DedupParams(method=["near"]))
        timings["ours"].append(elapsed)
    rate = {k: len(texts) / float(np.median(v)) for k, v in timings.items()}
    print("| method | precision | recall | F1 | near stage docs/s (median) |\n|---|---|---|---|---|")
    for threshold, key in ((0.8, "ds_0.8"), (best, "ds_best")):
        p, r, f = results[threshold]
        print(f"| datasketch recipe, threshold {threshold} | {p:.3f} | {r:.3f} | {f:.3f} | {rate[key]:.0f} |")
    p, r, f = score(dropped, clusters)
    print(f"| ours, near stage (defaults) | {p:.3f} | {r:.3f} | {f:.3f} | {rate['ours']:.0f} |")
    dropped_all, _ = ours(texts, DedupParams())
    p, r, f = score(dropped_all, clusters)
    print(f"| ours, exact + near (defaults) | {p:.3f} | {r:.3f} | {f:.3f} | - |")
    print(
        f"\nthroughput ratio, median of {args.repeats}: {rate['ours'] / rate['ds_0.8']:.2f}x datasketch at 0.8, "
        f"{rate['ours'] / rate['ds_best']:.2f}x at {best}"
    )
    original_of = {c: n for n, (c, k) in enumerate(zip(clusters, kinds, strict=True)) if k == "original"}
    found = [n in dropped_all or original_of[c] in dropped_all for n, c in enumerate(clusters)]
    by_kind = {k: np.mean([found[n] for n, kk in enumerate(kinds) if kk == k]) for k in KINDS}
    print(
        "\nrecall of planted copies by kind (ours, exact + near): "
        + ", ".join(f"{k} {v:.3f}" for k, v in by_kind.items())
    )
    print(f"peak RSS: {_peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
