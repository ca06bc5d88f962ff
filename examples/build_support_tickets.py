"""Build the bundled example `support_tickets.csv` with planted issues and its ground truth.

Source: banking77 (PolyAI, CC BY 4.0), via ../shared/data/banking77. Eight intents, 60 training
queries each; then, seeded:
  * 30 labels flipped to another of the eight intents,
  * 20 reformatted duplicates of existing rows (case, spacing, punctuation changed),
  * 12 test queries of the same intents leaked into the training rows.
The truth also lists the training queries that are, as drawn, surface variants of a test query (the same
content words in order: curation_tools.query_slots.same_query; each one read, see examples/README.md): copies
of a benchmark item that nobody planted, left in as real data has them.
`bank_eval.jsonl` holds the 320 test queries of those intents (the benchmark the leaks come from).
The outputs are committed; rerun only to change the recipe:
    python examples/build_support_tickets.py ../shared/data/banking77
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from pathlib import Path

from curation_tools.query_slots import same_query
from curation_tools.text import normalize

INTENTS = [
    "age_limit",
    "lost_or_stolen_phone",
    "terminate_account",
    "change_pin",
    "apple_pay_or_google_pay",
    "exchange_rate",
    "atm_support",
    "edit_personal_details",
]
PER_CLASS, FLIPS, DUPLICATES, LEAKS, SEED = 60, 30, 20, 12, 7


def reformat(text: str, rng: random.Random) -> str:
    variants = [
        lambda t: t.upper(),
        lambda t: "  " + t.replace(" ", "  ") + "  ",
        lambda t: t.lower().rstrip("?.!") + " ?",
        lambda t: t.replace(",", " ,").replace("?", " ?") + "\n",
    ]
    return rng.choice(variants)(text)


def _words(text: str) -> str:
    """Normalised words, space-delimited on both sides, for whole-word containment tests."""
    return " " + " ".join(re.findall(r"\w+", normalize(text))) + " "


def main(source: Path) -> None:
    here = Path(__file__).resolve().parent
    rng = random.Random(SEED)
    read = lambda name: [json.loads(x) for x in (source / name).read_text().split("\n") if x.strip()]  # noqa: E731
    test = [r for r in read("banking77_test.jsonl") if r["label_name"] in INTENTS]
    # banking77 has queries in both splits (also inside longer training queries) and repeated within train:
    # leave those out, so that the planted duplicates and leaks are the only ones and the ground truth is exact
    tests = [_words(r["text"]) for r in test]
    seen: set[str] = set()
    train = []
    for r in read("banking77_train.jsonl"):
        words = _words(r["text"])
        if r["label_name"] in INTENTS and words not in seen and not any(q in words or words in q for q in tests):
            seen.add(words)
            train.append(r)
    rows = []
    for intent in INTENTS:
        pool = [r for r in train if r["label_name"] == intent]
        rows += [{"text": r["text"], "intent": intent} for r in rng.sample(pool, PER_CLASS)]
    rng.shuffle(rows)
    truth: dict[str, dict[str, object]] = {"label_flips": {}, "duplicates": {}, "leaks": {}, "natural_copies": {}}
    for i, row in enumerate(rows):
        row["ticket_id"] = f"T{i:04d}"
    for row in rng.sample(rows, FLIPS):
        wrong = rng.choice([x for x in INTENTS if x != row["intent"]])
        truth["label_flips"][row["ticket_id"]] = row["intent"]
        row["intent"] = wrong
    flipped = set(truth["label_flips"])
    originals = rng.sample([r for r in rows if r["ticket_id"] not in flipped], DUPLICATES)
    extra = []
    for n, row in enumerate(originals):
        extra.append({"ticket_id": f"D{n:03d}", "text": reformat(row["text"], rng), "intent": row["intent"]})
        truth["duplicates"][f"D{n:03d}"] = row["ticket_id"]
    benchmark = [{"id": f"eval-{i}", "query": r["text"], "intent": r["label_name"]} for i, r in enumerate(test)]
    for n, item in enumerate(rng.sample(benchmark, LEAKS)):
        extra.append({"ticket_id": f"L{n:03d}", "text": item["query"], "intent": item["intent"]})
        truth["leaks"][f"L{n:03d}"] = item["id"]
    for row in rows:
        copied = next((item["id"] for item in benchmark if same_query(row["text"], item["query"])), None)
        if copied:
            truth["natural_copies"][row["ticket_id"]] = copied
    for row in extra:
        rows.insert(rng.randrange(len(rows) + 1), row)
    with (here / "support_tickets.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["ticket_id", "text", "intent"])
        writer.writeheader()
        writer.writerows(rows)
    (here / "bank_eval.jsonl").write_text("".join(json.dumps(b) + "\n" for b in benchmark))
    (here / "support_tickets.truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    print(
        f"{len(rows)} rows, {len(benchmark)} benchmark items, truth: "
        + ", ".join(f"{k} {len(v)}" for k, v in truth.items())
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/banking77"))
