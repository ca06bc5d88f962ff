"""Decontamination on natural data, with real negatives: what the tool flags, and whether it is a copy.

Parts (--parts, comma-separated):
- pairs: banking77, CLINC150 and GSM8K train vs test with nothing planted. Every flag is listed for reading
  (--listing FILE); the 13-gram rule of lm-evaluation-harness runs beside it.
- queries: rows written from real test queries (query_sets.py): surface variants (copies), one-slot swaps
  (another number, city, country, day, month, dish, relative or card brand: new queries) and unrelated
  training queries of other intents, scanned against the whole test split. CLINC150 seed 0 is the set the word
  lists were written on; banking77 and CLINC150 seed 1 are reported beside it.
- buried: MMLU test questions put inside real 20 Newsgroups posts as a paragraph of their own (alone, with
  lettered choices, with choices and answer), among plain posts, scanned against all of MMLU test.

    PYTHONWARNINGS=ignore python benchmarks/decontam_natural.py --parts pairs,queries,buried --listing flags.txt
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from decontam import thirteen_gram
from jsonl import records
from query_sets import mmlu_in_post, slot_swaps, surface_variants

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.decontam import DecontamParams, run
from curation_tools.schema import ToolResult

CACHE = Path(__file__).parent / ".cache" / "decontam"


def scan(texts: list[str], spec: str, **params: object) -> tuple[ToolResult, float]:
    frame = pd.DataFrame({"text": texts}, index=pd.Index([str(i) for i in range(len(texts))], name="row_id"))
    data = Dataset(frame=frame, roles=Roles(text=["text"]), source=DataSource(path="train", format="jsonl"))
    start = time.perf_counter()
    result = run(data, DecontamParams(benchmark=[spec], **params), ToolContext(cache_dir=CACHE))
    return result, time.perf_counter() - start


def test_split(shared: Path, folder: Path, name: str) -> tuple[list[dict], list[dict], str]:
    """(training records, test records, benchmark spec of the test queries); records have text and label."""
    if name == "banking77":
        train = records(shared / "banking77/banking77_train.jsonl")
        test = records(shared / "banking77/banking77_test.jsonl")
    else:
        clinc = records(shared / "clinc150/clinc150_full.jsonl")
        train = [r for r in clinc if r["split"] == "train"]
        test = [r for r in clinc if r["split"] == "test"]
    return train, test, _write(folder, name, [r["text"] for r in test])


def _write(folder: Path, name: str, queries: list[str]) -> str:
    path = folder / f"{name}_test.jsonl"
    path.write_text("".join(json.dumps({"text": q}) + "\n" for q in queries))
    return f"{path}:text"


def part_pairs(shared: Path, folder: Path, listing: list[str]) -> None:
    print("| pair | training rows | flagged | surface variant / whole item / n-gram | as rewordings "
          "| near matches not flagged | 13-gram rule flags | time (s) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    runs = {}
    for name in ("banking77", "clinc150"):
        train, _, spec = test_split(shared, folder, name)
        runs[name] = ([r["text"] for r in train], spec)
    gsm = shared / "gsm8k"
    runs["gsm8k"] = (
        [f"{r['question']}\n{r['answer']}" for r in records(gsm / "gsm8k_train.jsonl")],
        f"{gsm / 'gsm8k_test.jsonl'}:gsm8k",
    )
    for name, (texts, spec) in runs.items():
        result, elapsed = scan(texts, spec)
        findings = result.proposal.findings
        methods = Counter(f.evidence.method for f in findings)
        copied = ("surface variant", "whole item in row", "ngram")
        reworded = sum(n for method, n in methods.items() if not method.startswith(copied))
        near = result.report["near_matches_not_flagged"]
        print(
            f"| {name} | {len(texts):,} | {len(findings)} | {methods['surface variant']} / "
            f"{methods['whole item in row']} / {methods['ngram']} | {reworded} | {near['count']} "
            f"| {int(thirteen_gram(texts, [spec]).sum())} | {elapsed:.0f} |"
        )
        listing.append(f"\n## {name}: every flag (method, score | training row || benchmark item)")
        for f in sorted(findings, key=lambda f: (f.evidence.method, -f.score)):
            row = texts[int(f.row_id)].strip().split("\n")[0]
            item = (f.evidence.benchmark_text or "").strip().split("\n")[0]
            listing.append(f"{f.row_id}\t{f.evidence.method}\t{f.score:.2f} | {row[:150]} || {item[:150]}")
        listing.append(f"\n## {name}: closest near matches not flagged (slot: differs)")
        listing.extend(f"{m['row_id']}\t{m['differs']}" for m in near["closest"][:20])


def part_queries(shared: Path, folder: Path, listing: list[str], n_swaps: int, n_variants: int) -> None:
    print("| test queries (seed) | surface variants found | one-slot swaps flagged "
          "| training queries of another intent flagged | swaps by slot (flagged / made) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name, seed in (("clinc150", 0), ("clinc150", 1), ("banking77", 0)):
        train_records, test_records, spec = test_split(shared, folder, name)
        test = [r["text"] for r in test_records]
        variants = surface_variants(test, n_variants, seed)
        swaps = slot_swaps(test, n_swaps, seed)
        rng = random.Random(seed)
        test_words = {" ".join(q.lower().split()) for q in test}
        drawn = [r for r in rng.sample(train_records, 2 * n_variants) if r["text"].lower().strip() not in test_words]
        unrelated = [r["text"] for r in drawn[:n_variants]]
        rows = [v for v, _ in variants] + [s for s, _, _ in swaps] + unrelated
        result, _ = scan(rows, spec)
        hit = {int(f.row_id): f for f in result.proposal.findings}
        found = sum(i in hit for i in range(len(variants)))
        swap_rows = range(len(variants), len(variants) + len(swaps))
        swapped = [i for i in swap_rows if i in hit]
        first = len(variants) + len(swaps)
        others = [i for i in range(first, len(rows)) if i in hit]
        # a training query flagged against a test query of another intent is unrelated: a false flag by any reading
        label_of = {r["text"]: r["label"] for r in test_records}
        other = sum(label_of.get(hit[i].evidence.benchmark_text) != drawn[i - first]["label"] for i in others)
        made = Counter(slot for _, _, slot in swaps)
        flagged = Counter(swaps[i - len(variants)][2] for i in swapped)
        by_slot = ", ".join(f"{s} {flagged[s]}/{made[s]}" for s in made)
        print(
            f"| {name} ({seed}) | {found}/{len(variants)} = {found / max(len(variants), 1):.3f} "
            f"| {len(swapped)}/{len(swaps)} = {len(swapped) / max(len(swaps), 1):.3f} | {other} of {len(unrelated)} "
            f"({len(others)} of the same intent) | {by_slot} |"
        )
        listing.append(f"\n## {name} seed {seed}: training queries flagged (method, score | row || test query)")
        listing.extend(
            f"{'ANOTHER INTENT ' * (label_of.get(hit[i].evidence.benchmark_text) != drawn[i - first]['label'])}"
            f"{hit[i].evidence.method}, {hit[i].score:.2f} | {rows[i]} || {hit[i].evidence.benchmark_text}"
            for i in others
        )
        listing.append(f"\n## {name} seed {seed}: surface variants missed (variant || test query)")
        listing.extend(f"{v} || {test[i]}" for j, (v, i) in enumerate(variants) if j not in hit)
        listing.append(f"\n## {name} seed {seed}: swaps flagged (swap || its test query || flagged item)")
        listing.extend(
            f"{swaps[i - len(variants)][0]} || {test[swaps[i - len(variants)][1]]} || {hit[i].evidence.benchmark_text}"
            for i in swapped
        )
        listing.append(f"\n## {name} seed {seed}: a few swaps, as the report names them")
        near = result.report["near_matches_not_flagged"]["closest"]
        listing.extend(f"{rows[int(m['row_id'])]} -> {m['differs']}" for m in near[:10])


def part_buried(shared: Path, listing: list[str], n_items: int, n_plain: int) -> None:
    mmlu = records(shared / "mmlu/mmlu_test.jsonl.gz")
    posts = [r["text"] for r in records(shared / "20news/20news_test.jsonl.gz") if len(r["text"].split()) >= 60]
    rng = random.Random(0)
    rng.shuffle(posts)
    forms = ["question", "with choices", "with answer"]
    rows, truth = [], []
    for k, item in enumerate(rng.sample(mmlu, n_items)):
        form = forms[k % 3]
        letter = "ABCD"[item["answer"]] if isinstance(item["answer"], int) else item["answer"]
        rows.append(mmlu_in_post(posts[k], item["question"], item["choices"], letter, form, rng))
        truth.append((str(item["idx"]), form))
    rows += posts[n_items : n_items + n_plain]
    result, elapsed = scan(rows, f"{shared / 'mmlu/mmlu_test.jsonl.gz'}:mmlu")
    hit = {int(f.row_id): f for f in result.proposal.findings}
    print("| MMLU item inside a 20news post | rows | found | right item | 13-gram rule |")
    print("|---|---|---|---|---|")
    peer = thirteen_gram(rows, [f"{shared / 'mmlu/mmlu_test.jsonl.gz'}:mmlu"])
    for form in forms:
        ids = [i for i, (_, f) in enumerate(truth) if f == form]
        found = [i for i in ids if i in hit]
        right = sum(hit[i].evidence.benchmark_item == truth[i][0] for i in found)
        print(f"| {form} | {len(ids)} | {len(found) / len(ids):.3f} | {right}/{len(found)} | {peer[ids].mean():.3f} |")
    plain = [i for i in range(n_items, len(rows)) if i in hit]
    print(f"| plain posts (nothing planted) | {n_plain} | {len(plain)} flagged | | {int(peer[n_items:].sum())} |")
    print(f"\n{len(rows)} rows against MMLU test (14,042 items) in {elapsed:.0f} s")
    listing.append("\n## buried: items missed (question)")
    listing.extend(
        f"{truth[i][1]}: {next(m['question'] for m in mmlu if str(m['idx']) == truth[i][0])[:200]}"
        for i in range(n_items)
        if i not in hit
    )
    listing.append("\n## buried: plain posts flagged")
    listing.extend(f"{i}: {hit[i].message} || {rows[i][:300]!r}" for i in plain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--parts", default="pairs,queries,buried")
    parser.add_argument("--swaps", type=int, default=300)
    parser.add_argument("--variants", type=int, default=250)
    parser.add_argument("--buried", type=int, default=300, help="MMLU items put inside posts")
    parser.add_argument("--plain", type=int, default=1000, help="plain posts beside them")
    parser.add_argument("--listing", type=Path, help="write every flag, miss and near match here for reading")
    args = parser.parse_args()
    listing: list[str] = []
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as folder:
        if "pairs" in parts:
            part_pairs(args.shared, Path(folder), listing)
        if "queries" in parts:
            part_queries(args.shared, Path(folder), listing, args.swaps, args.variants)
    if "buried" in parts:
        part_buried(args.shared, listing, args.buried, args.plain)
    if args.listing:
        args.listing.write_text("\n".join(listing) + "\n")


if __name__ == "__main__":
    main()
