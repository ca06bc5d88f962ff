"""sft-quality's flags on real instruction data: how often each fires on real rows (every flag read by hand), and
recall and precision on planted defects.

    python benchmarks/sft_quality.py ../shared/data [--show 20]

Real sets (no defect planted): GSM8K train (7,473 problems and worked answers), HumanEval (164 prompts and
canonical solutions: code), TruthfulQA (817 questions with every answer listed: best, correct and incorrect, 6,704
replies, among them real non-answers such as "I have no comment"). Planted: GSM8K test (1,319), 20 rows per defect:
a blank reply, a reply cut at a random word (30-80% of its words), a refusal (eight phrasings,
three of them outside the rules' patterns), the request echoed or one sentence looped four times, a reply in
another language (sentences written for this benchmark in six languages), a reply forty replies long.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, DataSource
from curation_tools.roles import RoleOverrides, infer_roles
from curation_tools.sft_quality import FLAG_KINDS, SftQualityParams, run

REFUSALS = [
    "I'm sorry, but I can't help with that request.",
    "As an AI language model, I cannot answer this question.",
    "I cannot provide that information.",
    "Sorry, I can't do that.",
    "I must decline to answer this.",
    "Unfortunately, I'm not able to share that.",  # outside the patterns
    "I'd rather not answer that question.",  # outside the patterns
    "That's not something I can help with.",  # outside the patterns
]
FOREIGN = [
    "La respuesta es dieciocho dólares, porque ella vende nueve huevos cada día a dos dólares.",
    "Primero calculamos el total de horas trabajadas y después lo dividimos entre los días de la semana.",
    "La réponse est dix-huit dollars, car elle vend neuf œufs par jour à deux dollars chacun.",
    "Il faut d'abord additionner les deux nombres, puis diviser le résultat par trois pour trouver la moyenne.",
    "Die Antwort ist achtzehn Dollar, weil sie jeden Tag neun Eier für zwei Dollar verkauft.",
    "Zuerst berechnen wir die Gesamtzahl der Stunden und teilen sie dann durch die Anzahl der Tage.",
    "La risposta è diciotto dollari, perché vende nove uova al giorno a due dollari ciascuno.",
    "A resposta é dezoito dólares, porque ela vende nove ovos por dia a dois dólares cada.",
    "答案是十八美元，因为她每天以两美元的价格卖出九个鸡蛋。",
    "Ответ восемнадцать долларов, потому что она продаёт девять яиц в день по два доллара.",
]
PLANTS = ["empty_reply", "truncated_reply", "refusal", "repeated_turn", "language_mismatch", "extreme_length"]


def dataset(frame: pd.DataFrame) -> Dataset:
    frame = frame.set_axis(pd.Index([str(i) for i in range(len(frame))], name="row_id"))
    roles, _ = infer_roles(frame, RoleOverrides())
    return Dataset(frame=frame, roles=roles, source=DataSource(path="<benchmark>", format="jsonl"))


def chats(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"messages": [[{"role": "user", "content": q}, {"role": "assistant", "content": a}] for q, a in pairs]}
    )


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def flags(frame: pd.DataFrame) -> tuple[list, float]:
    started = time.perf_counter()
    result = run(dataset(frame), SftQualityParams(), ToolContext(cache_dir=Path("/tmp/sft-quality-bench")))
    return result.findings, time.perf_counter() - started


def plant(pairs: list[tuple[str, str]], per_kind: int, seed: int) -> tuple[list[tuple[str, str]], dict[str, str]]:
    rng = random.Random(seed)
    pairs = list(pairs)
    chosen = rng.sample(range(len(pairs)), per_kind * len(PLANTS))
    truth = {}
    for n, index in enumerate(chosen):
        kind = PLANTS[n % len(PLANTS)]
        request, reply = pairs[index]
        words = reply.split()
        if kind == "empty_reply":
            reply = rng.choice(["", " ", "\n"])
        elif kind == "truncated_reply":
            cut = max(2, int(len(words) * rng.uniform(0.3, 0.8)))
            reply = " ".join(words[:cut]).rstrip(".!?")
        elif kind == "refusal":
            reply = rng.choice(REFUSALS)
        elif kind == "repeated_turn":
            sentence = reply.split(".")[0].strip() or reply
            reply = request if rng.random() < 0.5 else ". ".join([sentence] * 4) + "."
        elif kind == "language_mismatch":
            reply = rng.choice(FOREIGN)
        else:
            reply = "\n".join(rng.choice(pairs)[1] for _ in range(40))
        pairs[index] = (request, reply)
        truth[str(index)] = kind
    return pairs, truth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--show", type=int, default=20)
    args = parser.parse_args()
    gsm_train = [(r["question"], r["answer"]) for r in jsonl(args.data / "gsm8k" / "gsm8k_train.jsonl")]
    gsm_test = [(r["question"], r["answer"]) for r in jsonl(args.data / "gsm8k" / "gsm8k_test.jsonl")]
    human = jsonl(args.data / "humaneval" / "HumanEval.jsonl")
    truthful = jsonl(args.data / "truthfulqa" / "truthfulqa.jsonl")
    every_answer = [
        (r["question"], a) for r in truthful for a in [r["best_answer"], *r["correct_answers"], *r["incorrect_answers"]]
    ]
    real = {
        "GSM8K train": chats(gsm_train),
        "HumanEval": pd.DataFrame(
            {"instruction": [r["prompt"] for r in human], "output": [r["canonical_solution"] for r in human]}
        ),
        "TruthfulQA, every answer": chats(every_answer),
    }
    print("## Real rows: flags per 1,000 replies (each one read)\n")
    print("| set | replies | " + " | ".join(FLAG_KINDS) + " | seconds |")
    print("|" + "---|" * (len(FLAG_KINDS) + 3))
    shown: dict[str, list[str]] = defaultdict(list)
    for name, frame in real.items():
        findings, seconds = flags(frame)
        counts = Counter(f.issue for f in findings)
        per = " | ".join(f"{counts[k]} ({1000 * counts[k] / len(frame):.1f})" for k in FLAG_KINDS)
        print(f"| {name} | {len(frame)} | {per} | {seconds:.1f} |")
        for f in findings:
            shown[f.issue].append(f"{name}: {f.message} | {f.evidence.notes[-1][:160]!r}")
    print("\n## Planted: GSM8K test, 20 rows per defect\n")
    pairs, truth = plant(gsm_test, 20, seed=5)
    findings, seconds = flags(chats(pairs))
    print("| flag | planted | found (recall) | flags | on rows of this defect | of another defect | on clean rows |")
    print("|---|---|---|---|---|---|---|")
    for kind in FLAG_KINDS:
        mine = [f for f in findings if f.issue == kind]
        right = {f.row_id for f in mine if truth.get(f.row_id) == kind}
        planted = sum(1 for k in truth.values() if k == kind)
        other = sum(1 for f in mine if f.row_id in truth and truth[f.row_id] != kind)
        clean = sum(1 for f in mine if f.row_id not in truth)
        print(
            f"| {kind} | {planted} | {len(right)} ({len(right) / planted:.2f}) | {len(mine)} | {len(right)} "
            f"| {other} | {clean} |"
        )
        for f in mine:
            if f.row_id in truth:
                shown[kind].append(f"planted {truth[f.row_id]}: {f.message} | {f.evidence.notes[-1][:160]!r}")
    print(f"\n{len(pairs)} replies, {seconds:.1f} s")
    print(f"\n## {args.show} flags of each kind, to read\n")
    for kind in FLAG_KINDS:
        print(f"### {kind}")
        for line in shown[kind][: args.show]:
            print(f"- {line}")


if __name__ == "__main__":
    main()
