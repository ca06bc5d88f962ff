"""The planted decontamination corpus shared by benchmarks/decontam.py and its weight fit.

Clean rows: GSM8K train (question + worked answer; full of problems similar to the test set), IMDB
reviews (long), banking77 queries (short), and questions on MMLU's topics that are not MMLU items:
ARC science questions, TruthfulQA questions and CLINC150 queries (many ask for facts or definitions).
Planted rows, each with the benchmark item it holds:
verbatim and rephrased GSM8K test items, verbatim (question + lettered choices) and rephrased MMLU
questions, verbatim and rephrased HumanEval (Python), verbatim items buried inside long reviews, and
as a stretch translations (HumanEval in C/JavaScript, MMLU in Chinese). Rephrases come from
../shared/data/decontam_groundtruth (llm-decontaminator's data).
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
from jsonl import records

VARIANTS = {
    "gsm8k_verbatim": 100,
    "gsm8k_rephrased": 200,
    "mmlu_verbatim": 100,
    "mmlu_rephrased": 200,
    "humaneval_verbatim": 50,
    "humaneval_rephrased": 100,
    "verbatim_in_long_doc": 40,
    "translated (stretch)": 100,
}
STRETCH = {"translated (stretch)"}


def mmlu_text(question: str, choices: list[str], answer: str) -> str:
    lettered = "\n".join(f"{letter}. {c}" for letter, c in zip("ABCD", choices, strict=False))
    return f"Question: {question}\n{lettered}\nAnswer: {answer}"


def benchmark_paths(shared: Path) -> dict[str, Path]:
    return {
        "gsm8k": shared / "gsm8k" / "gsm8k_test.jsonl",
        "mmlu": shared / "mmlu" / "mmlu_test.jsonl.gz",
        "humaneval": shared / "humaneval" / "HumanEval.jsonl",
    }


def _topical_questions(shared: Path, rng: random.Random, n_arc: int, n_clinc: int) -> list[dict]:
    """Clean rows near MMLU's topics: questions a model of paraphrase must not take for reworded items."""
    arc = [
        r["question"]
        for name in ("arc_easy_test", "arc_challenge_test")
        for r in records(shared / "arc" / f"{name}.jsonl")
    ]
    truthful = [r["question"] for r in records(shared / "truthfulqa" / "truthfulqa.jsonl")]
    clinc = [r["text"] for r in records(shared / "clinc150" / "clinc150_full.jsonl")]
    texts = rng.sample(arc, n_arc) + truthful + rng.sample(clinc, n_clinc)
    return [{"text": t, "variant": "clean"} for t in texts]


def build(
    shared: Path, seed: int = 0, n_imdb: int = 3000, n_banking: int = 3000, n_arc: int = 1000, n_clinc: int = 2000
) -> pd.DataFrame:
    """Rows: text, variant ('clean' or a planted kind), benchmark, item (the benchmark's item id)."""
    rng = random.Random(seed)
    rows: list[dict] = _topical_questions(shared, random.Random(seed + 1), n_arc, n_clinc)
    for r in records(shared / "gsm8k" / "gsm8k_train.jsonl"):
        rows.append({"text": f"{r['question']}\n{r['answer']}", "variant": "clean"})
    imdb = [r["text"] for r in records(shared / "imdb" / "imdb_test.jsonl.gz")]
    rng.shuffle(imdb)
    rows += [{"text": t, "variant": "clean"} for t in imdb[:n_imdb]]
    banking = [r["text"] for r in records(shared / "banking77" / "banking77_train.jsonl")]
    rows += [{"text": t, "variant": "clean"} for t in rng.sample(banking, n_banking)]

    gsm = records(shared / "gsm8k" / "gsm8k_test.jsonl")
    mmlu = records(shared / "mmlu" / "mmlu_test.jsonl.gz")
    human = records(shared / "humaneval" / "HumanEval.jsonl")
    truth = shared / "decontam_groundtruth"
    gsm_re = records(truth / "gsm8k_test_rephrased_pairs.jsonl")
    mmlu_re = [r for r in records(truth / "mmlu_3subjects_rephrased_pairs.jsonl") if not r["rephrased_is_empty"]]
    human_re = [r for r in records(truth / "humaneval_rephrased_pairs.jsonl") if not r["rephrased_is_empty"]]

    def plant(variant: str, text: str, benchmark: str, item: int | str) -> None:
        rows.append({"text": text, "variant": variant, "benchmark": benchmark, "item": str(item)})

    n = VARIANTS
    for r in rng.sample(gsm, n["gsm8k_verbatim"]):
        plant("gsm8k_verbatim", f"{r['question']}\n{r['answer']}", "gsm8k", r["idx"])
    for r in rng.sample(gsm_re, n["gsm8k_rephrased"]):
        plant("gsm8k_rephrased", r["rephrased_raw"], "gsm8k", r["idx"])
    for r in rng.sample(mmlu, n["mmlu_verbatim"]):
        plant("mmlu_verbatim", mmlu_text(r["question"], r["choices"], r["answer"]), "mmlu", r["idx"])
    english = [r for r in mmlu_re if r["variant"] == "rephrase_english_question"]
    for r in rng.sample(english, n["mmlu_rephrased"]):
        plant("mmlu_rephrased", r["rephrased"], "mmlu", r["mmlu_idx"])
    for r in rng.sample(human, n["humaneval_verbatim"]):
        plant("humaneval_verbatim", r["prompt"] + r["canonical_solution"], "humaneval", r["task_id"])
    for r in rng.sample([r for r in human_re if r["variant"] == "python"], n["humaneval_rephrased"]):
        plant("humaneval_rephrased", r["rephrased"], "humaneval", r["task_id"])
    hosts = imdb[n_imdb : n_imdb + n["verbatim_in_long_doc"]]
    for host, r in zip(hosts, rng.sample(gsm, len(hosts)), strict=True):
        words = host.split()
        middle = len(words) // 2
        text = " ".join(words[:middle]) + f"\n\n{r['question']}\n{r['answer']}\n\n" + " ".join(words[middle:])
        plant("verbatim_in_long_doc", text, "gsm8k", r["idx"])
    translated = [r for r in human_re if r["variant"] in ("c", "javascript")]
    chinese = [r for r in mmlu_re if r["variant"] == "chinese_question_choices"]
    half = n["translated (stretch)"] // 2
    for r in rng.sample(translated, half):
        plant("translated (stretch)", r["rephrased"], "humaneval", r["task_id"])
    for r in rng.sample(chinese, half):
        plant("translated (stretch)", r["rephrased"], "mmlu", r["mmlu_idx"])
    rng.shuffle(rows)
    frame = pd.DataFrame(rows)
    frame.insert(0, "row_id", [f"r{i}" for i in range(len(frame))])
    return frame
