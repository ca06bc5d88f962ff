"""Decontamination on natural train/test pairs with nothing planted: what the tool flags, and whether it is a copy.

Pairs: banking77 train vs test and CLINC150 train vs test (short queries written by crowd workers, many
of the same intent as a test query), GSM8K train (question + worked answer) vs GSM8K test (math problems,
many on the same topic as a test problem). The 13-gram rule of lm-evaluation-harness runs beside it.

What counts as a copy (docs: benchmarks/README.md, "What counts as contamination"):
- a short item (fewer than 15 tokens: a query) is copied by a row that is near enough the item itself:
  token similarity (1 - token edits / the longer length) of at least 0.8;
- a long item is copied by a row that reproduces at least half of its word 8-grams (whatever else the row
  holds), or rewords it: the same problem with the same quantities in the same roles (judged by hand: the
  script lists the reworded flags for reading).

    PYTHONWARNINGS=ignore python benchmarks/decontam_natural.py     # --pairs banking77,clinc150,gsm8k --show 30
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).parent))
from decontam import thirteen_gram
from jsonl import records

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.decontam import DecontamParams, run
from curation_tools.ngram_index import NEAR_COPY, SHORT_KEY_TOKENS, tokenize

CACHE = Path(__file__).parent / ".cache" / "decontam"


def pairs(shared: Path, folder: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (training texts, benchmark spec)."""
    out: dict[str, tuple[list[str], str]] = {}
    banking = shared / "banking77"
    out["banking77"] = (
        [r["text"] for r in records(banking / "banking77_train.jsonl")],
        f"{banking / 'banking77_test.jsonl'}:text",
    )
    clinc = records(shared / "clinc150/clinc150_full.jsonl")
    test = folder / "clinc150_test.jsonl"
    test.write_text("".join(json.dumps({"text": r["text"]}) + "\n" for r in clinc if r["split"] == "test"))
    out["clinc150"] = ([r["text"] for r in clinc if r["split"] == "train"], f"{test}:text")
    out["gsm8k"] = (
        [f"{r['question']}\n{r['answer']}" for r in records(shared / "gsm8k/gsm8k_train.jsonl")],
        f"{shared / 'gsm8k/gsm8k_test.jsonl'}:gsm8k",
    )
    return out


def is_copy(row: str, item_key: str, coverage: float) -> bool:
    """The documented definition, for flags that are not rewordings (those are read by hand)."""
    key = tokenize(item_key)
    if len(key) < SHORT_KEY_TOKENS:
        return Levenshtein.normalized_similarity(tokenize(row), key) >= NEAR_COPY
    return coverage >= 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--pairs", default="banking77,clinc150,gsm8k")
    parser.add_argument("--show", type=int, default=30, help="reworded flags listed per pair (highest scores)")
    args = parser.parse_args()
    table, listings = [], []
    with tempfile.TemporaryDirectory() as folder:
        for name, (texts, spec) in pairs(args.shared, Path(folder)).items():
            if name not in args.pairs.split(","):
                continue
            frame = pd.DataFrame({"text": texts}, index=pd.Index([str(i) for i in range(len(texts))], name="row_id"))
            data = Dataset(frame=frame, roles=Roles(text=["text"]), source=DataSource(path="train", format="jsonl"))
            start = time.perf_counter()
            result = run(data, DecontamParams(benchmark=[spec]), ToolContext(cache_dir=CACHE))
            elapsed = time.perf_counter() - start
            findings = result.proposal.findings
            verbatim = [f for f in findings if f.evidence.method.startswith("ngram")]
            reworded = [f for f in findings if not f.evidence.method.startswith("ngram")]
            copies = sum(
                is_copy(texts[int(f.row_id)], f.evidence.benchmark_text, f.evidence.ngram_coverage or 0.0)
                for f in verbatim
            )
            high = [f for f in reworded if f.score >= 0.9]
            peer = int(thirteen_gram(texts, [spec]).sum())
            table.append(
                f"| {name} | {len(texts):,} | {len(findings)} | {len(verbatim)} ({copies} copies by the definition) "
                f"| {len(reworded)} ({len(high)} at >= 0.9) | {peer} | {elapsed:.0f} |"
            )
            listings.append(f"\n{name}: reworded flags, highest first (row || item)")
            for f in sorted(reworded, key=lambda f: -f.score)[: args.show]:
                row = texts[int(f.row_id)].split("\n")[0]
                listings.append(f"  {f.score:.2f} | {row[:160]} || {f.evidence.benchmark_text[:160]}")
    print("| pair | training rows | flagged | by n-grams / whole | as rewordings | 13-gram rule flags | time (s) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(table))
    print("\n".join(listings))


if __name__ == "__main__":
    main()
