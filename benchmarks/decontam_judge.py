"""The decontam tool's LLM judge on real pairs, with and without it. Needs an endpoint (OPENAI_BASE_URL; e.g.
the local model from `curate llm serve`).

Part 1 (pairs): can the judge tell a rewrite from a look-alike? Positives: rephrased GSM8K test and MMLU items
(llm-decontaminator's rewrites, ../shared/data/decontam_groundtruth) with the item they reword. Hard negatives:
GSM8K *train* problems with their nearest GSM8K test item, and ARC / TruthfulQA questions with their nearest
MMLU item (MiniLM cosine): same kind of problem, no leak. Pairs with an even position are the dev half (where
`judge_min_confidence` is chosen), odd ones are held out (where it is reported).

Part 2 (tool): the planted corpus of benchmarks/decontam.py, scanned with the judge configured; precision and
recall at the tool's threshold, with and without the judge, for the rows the judge band sends it.

    PYTHONWARNINGS=ignore python benchmarks/decontam_judge.py [--pairs 30] [--parts pairs,tool]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from decontam import CACHE, dataset, metrics
from decontam_corpus import STRETCH, benchmark_paths, build

from copilot.core.config import Settings
from copilot.llm.client import LLMClient
from copilot.llm.judge import LLMContaminationJudge
from curation_tools.benchmark_files import load_benchmark
from curation_tools.context import ContaminationQuestion, ToolContext
from curation_tools.decontam import DecontamParams, run

CONFIDENCES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def nearest_items(texts: list[str], items: list[str], ctx: ToolContext) -> list[int]:
    rows, bench = ctx.embedder.embed(texts), ctx.embedder.embed(items)
    return (rows @ bench.T).argmax(axis=1).tolist()


def pairs(shared: Path, n: int, ctx: ToolContext) -> pd.DataFrame:
    """n pairs of each kind: (kind, train text, benchmark text, contaminated)."""
    frame = build(shared)
    rng = random.Random(0)
    bench = {name: load_benchmark(str(path)) for name, path in benchmark_paths(shared).items()}
    text_of = {name: dict(zip(b.ids, b.texts, strict=True)) for name, b in bench.items()}
    out = []
    for variant, name in (("gsm8k_rephrased", "gsm8k"), ("mmlu_rephrased", "mmlu")):
        rows = frame[frame["variant"] == variant].sample(n, random_state=0)
        out += [(variant, r.text, text_of[name][r.item], True) for r in rows.itertuples()]
    clean = frame[frame["variant"] == "clean"]["text"].tolist()
    gsm_train = rng.sample([t for t in clean if "\n####" in t], n)
    questions = rng.sample([t for t in clean if t.rstrip().endswith("?") and len(t.split()) >= 8], n)
    negatives = (("gsm8k_train_nearest", gsm_train, "gsm8k"), ("question_nearest_mmlu", questions, "mmlu"))
    for kind, texts, name in negatives:
        nearest = nearest_items(texts, bench[name].texts, ctx)
        out += [(kind, t, bench[name].texts[i], False) for t, i in zip(texts, nearest, strict=True)]
    table = pd.DataFrame(out, columns=["kind", "train", "benchmark", "contaminated"])
    table["half"] = np.where(table.groupby("kind").cumcount() % 2 == 0, "dev", "held-out")
    return table


def ask(table: pd.DataFrame, judge: LLMContaminationJudge) -> pd.DataFrame:
    questions = [
        ContaminationQuestion(pair_id=str(i), train_text=r.train[:4000], benchmark_text=r.benchmark[:4000])
        for i, r in table.iterrows()
    ]
    started = time.perf_counter()
    verdicts = {}
    for k, q in enumerate(questions):  # the judge's own verdicts, without its probe gate
        verdict = judge.verdict(q)
        if verdict is not None:
            verdicts[q.pair_id] = verdict
        print(f"\r  judged {k + 1}/{len(questions)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    table = table.copy()
    table["said"] = [verdicts[str(i)].contaminated if str(i) in verdicts else None for i in table.index]
    table["confidence"] = [verdicts[str(i)].confidence if str(i) in verdicts else 0.0 for i in table.index]
    table["agreed"] = [str(i) in verdicts and len(set(verdicts[str(i)].votes)) == 1 for i in table.index]
    table.attrs["seconds"] = time.perf_counter() - started
    return table


def acted(table: pd.DataFrame, min_confidence: float) -> dict[str, float]:
    """Verdicts at or above min_confidence: how many act, how many of those are right, and the recall of rewrites
    among positives (a 'contaminated' verdict that acts)."""
    acts = table["said"].notna() & (table["confidence"] >= min_confidence)
    right = acts & (table["said"] == table["contaminated"])
    pos = table["contaminated"]
    return {
        "acting": acts.mean(),
        "right when acting": right.sum() / max(acts.sum(), 1),
        "rewrites called contaminated": (acts & pos & (table["said"] == True)).sum() / max(pos.sum(), 1),  # noqa: E712
        "look-alikes called contaminated": (acts & ~pos & (table["said"] == True)).sum() / max((~pos).sum(), 1),  # noqa: E712
    }


def pairs_part(shared: Path, n: int, judge: LLMContaminationJudge, ctx: ToolContext) -> None:
    table = ask(pairs(shared, n, ctx), judge)
    seconds = table.attrs["seconds"]
    print(f"pairs: {len(table)} judged in {seconds:.0f} s ({seconds / len(table):.1f} s per pair)")
    print("\n| kind | pairs | both prompts agree | agreed: contaminated | agreed: independent | no answer |")
    print("|---|---|---|---|---|---|")
    for kind, group in table.groupby("kind", sort=False):
        agreed = group[group["agreed"]]
        print(
            f"| {kind} | {len(group)} | {len(agreed)} | {(agreed['said'] == True).sum()} | "  # noqa: E712
            f"{(agreed['said'] == False).sum()} | {group['said'].isna().sum()} |"  # noqa: E712
        )
    dev, held = table[table["half"] == "dev"], table[table["half"] == "held-out"]
    print(
        "\n| min confidence | half | acting | right when acting | rewrites called contaminated | look-alikes called "
        "contaminated |\n|---|---|---|---|---|---|"
    )
    for c in CONFIDENCES:
        for name, part in (("dev", dev), ("held-out", held)):
            m = acted(part, c)
            print(f"| {c} | {name} | " + " | ".join(f"{v:.2f}" for v in m.values()) + " |")
    usable = [c for c in CONFIDENCES if acted(dev, c)["right when acting"] >= 0.9 and acted(dev, c)["acting"] > 0]
    if usable:
        chosen = usable[0]
        m = acted(held, chosen)
        print(
            f"\ncalibrated on dev: the lowest min confidence with >= 90% right verdicts is {chosen}; held-out there: "
            + ", ".join(f"{k} {v:.2f}" for k, v in m.items())
        )
    else:
        print("\ncalibrated on dev: no min confidence gives >= 90% right verdicts: the judge should not act")


def tool_part(shared: Path, judge: LLMContaminationJudge) -> None:
    """The tool as a user runs it: the judge answers its probes first and is used only if it gets them right."""
    frame = build(shared)
    specs = [str(p) for p in benchmark_paths(shared).values()]
    data = dataset(frame["text"].tolist(), frame["row_id"].tolist())
    variant = frame["variant"].to_numpy()
    main = ~np.isin(variant, list(STRETCH))
    truth = variant != "clean"
    threshold = DecontamParams.model_fields["threshold"].default
    print("\n| judge | rows in the band | acted | precision | recall | F1 | wall time |\n|---|---|---|---|---|---|---|")
    for label, helper in (("none (offline)", None), ("local LLM, ungated", _Ungated(judge)), ("local LLM", judge)):
        started = time.perf_counter()
        params = DecontamParams(benchmark=specs, threshold=1e-6)  # every scored row, so acted verdicts are seen
        result = run(data, params, ToolContext(cache_dir=CACHE, contamination_judge=helper))
        flagged = frame["row_id"].isin({f.row_id for f in result.findings if f.score >= threshold}).to_numpy()
        acts = sum(bool(f.evidence.judge and f.evidence.judge.get("acted")) for f in result.findings)
        m = metrics(truth[main], flagged[main])
        print(
            f"| {label} | {result.report['judged']} | {acts} | {m['precision']:.3f} | {m['recall']:.3f} | "
            f"{m['F1']:.3f} | {time.perf_counter() - started:.0f} s |"
        )
    print(f"probes: {judge.client.usage.judge_probes}")


class _Ungated:
    """The judge without its probe gate: what its verdicts would do if they were trusted."""

    def __init__(self, judge: LLMContaminationJudge) -> None:
        self.judge = judge

    def judge_contamination(self, questions: list[ContaminationQuestion]) -> list:
        return [v for v in map(self.judge.verdict, questions) if v is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--pairs", type=int, default=30, help="pairs of each of the four kinds")
    parser.add_argument("--parts", default="pairs,tool")
    args = parser.parse_args()
    settings = Settings()
    if not settings.base_url:
        sys.exit("Set OPENAI_BASE_URL (e.g. run `curate llm serve qwen2.5-coder-0.5b` and export what it prints).")
    judge = LLMContaminationJudge(LLMClient(settings))
    print(f"model {settings.model} at {settings.base_url}; prompt {judge.prompt_versions}")
    parts = args.parts.split(",")
    if "pairs" in parts:
        pairs_part(args.shared, args.pairs, judge, ToolContext(cache_dir=CACHE))
    if "tool" in parts:
        tool_part(args.shared, judge)


if __name__ == "__main__":
    main()
