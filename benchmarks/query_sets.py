"""Rows written from real benchmark data, for checks that must not test the tool against its own definition.

- surface variants of real test queries: case, punctuation, spacing, politeness and filler words,
  contractions spelled or joined: copies;
- one-slot swaps of real test queries: one number, city, country, day, month, dish, relative or card brand
  replaced by another of its kind: new queries (a swap that lands on another test query is dropped);
- MMLU questions put inside real 20 Newsgroups posts as a paragraph of their own (the question alone, with its
  lettered choices, or with choices and answer): copies, whatever their length.

The value lists below are the benchmark's, not the tool's: the tool has no list of cities, dishes or relatives.
"""

from __future__ import annotations

import random
import re

CITIES = [
    "paris",
    "london",
    "tokyo",
    "boston",
    "denver",
    "chicago",
    "seattle",
    "miami",
    "dallas",
    "atlanta",
    "houston",
    "phoenix",
    "berlin",
    "madrid",
    "rome",
    "dublin",
    "sydney",
    "toronto",
    "vancouver",
    "montreal",
    "beijing",
    "shanghai",
    "moscow",
    "cairo",
    "lisbon",
    "vienna",
    "prague",
    "amsterdam",
    "brussels",
    "seoul",
    "bangkok",
    "singapore",
    "mumbai",
    "delhi",
    "austin",
    "portland",
    "orlando",
    "nashville",
    "detroit",
]
COUNTRIES = [
    "japan",
    "france",
    "germany",
    "italy",
    "spain",
    "mexico",
    "canada",
    "china",
    "india",
    "brazil",
    "england",
    "ireland",
    "australia",
    "russia",
    "egypt",
    "greece",
    "turkey",
    "portugal",
    "sweden",
    "norway",
    "thailand",
    "vietnam",
    "colombia",
    "peru",
    "argentina",
    "chile",
    "kenya",
    "morocco",
    "switzerland",
    "netherlands",
]
DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()  # noqa: SIM905
MONTHS = "january february march april june july august september october november december".split()  # noqa: SIM905
DISHES = [
    "lasagna",
    "pizza",
    "tacos",
    "sushi",
    "burritos",
    "pancakes",
    "chili",
    "curry",
    "paella",
    "risotto",
    "meatloaf",
    "enchiladas",
    "spaghetti",
    "ramen",
    "gumbo",
    "falafel",
    "hummus",
    "brownies",
    "cookies",
    "cheesecake",
    "omelette",
    "quiche",
]
RELATIVES = [
    "mom",
    "dad",
    "mother",
    "father",
    "sister",
    "brother",
    "wife",
    "husband",
    "son",
    "daughter",
    "grandma",
    "grandpa",
    "aunt",
    "uncle",
    "cousin",
]
CARD_BRANDS = ["visa", "mastercard", "amex", "discover"]
SLOT_LISTS = {
    "city": CITIES,
    "country": COUNTRIES,
    "day": DAYS,
    "month": MONTHS,
    "dish": DISHES,
    "relative": RELATIVES,
    "card brand": CARD_BRANDS,
}
_NUMBER = re.compile(r"\b\d+\b")
_CONTRACT = [
    ("what is", "what's"),
    ("do not", "don't"),
    ("does not", "doesn't"),
    ("i am", "i'm"),
    ("is not", "isn't"),
    ("can not", "can't"),
    ("cannot", "can't"),
    ("i have", "i've"),
    ("it is", "it's"),
    ("that is", "that's"),
    ("there is", "there's"),
    ("you are", "you're"),
    ("i will", "i'll"),
    ("did not", "didn't"),
]
_PREFIXES = ["please ", "please, ", "hey, ", "hi, ", "ok so ", "um, ", "hello, ", "so "]
_SUFFIXES = [" please", ", please", " thanks", ", thank you", " now"]


def words_key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _contract(text: str, rng: random.Random) -> str | None:
    lower = text.lower()
    pairs = [(a, b) for a, b in _CONTRACT if re.search(rf"\b{a}\b", lower) or b in lower]
    if not pairs:
        return None
    long, short = rng.choice(pairs)
    if re.search(rf"\b{long}\b", lower):
        return re.sub(rf"\b{long}\b", short, lower, count=1)
    return lower.replace(short, long, 1)


def surface_variant(text: str, rng: random.Random) -> str:
    """One to three surface changes, at least one of them beyond case and punctuation."""
    kinds = ["upper", "title", "punct", "strip", "prefix", "suffix", "contract", "space"]
    out = text
    for kind in rng.sample(kinds, rng.randint(1, 3)):
        if kind == "upper":
            out = out.upper()
        elif kind == "title":
            out = out[:1].upper() + out[1:]
        elif kind == "punct":
            out = out.rstrip(".?!") + rng.choice(["?", "!", ".", "??", " ?"])
        elif kind == "strip":
            out = re.sub(r"[.,?!;:']", "", out)
        elif kind == "prefix":
            out = rng.choice(_PREFIXES) + out
        elif kind == "suffix":
            out = out.rstrip(".?!") + rng.choice(_SUFFIXES)
        elif kind == "contract":
            out = _contract(out, rng) or out
        elif kind == "space":
            out = out.replace(" ", "  ", 1).strip() + " "
    return out


def surface_variants(queries: list[str], n: int, seed: int) -> list[tuple[str, int]]:
    """(variant, index of its query) for n queries drawn without replacement; a variant differs in text."""
    rng = random.Random(seed)
    out = []
    for i in rng.sample(range(len(queries)), len(queries)):
        variant = surface_variant(queries[i], rng)
        if variant.strip() != queries[i].strip():
            out.append((variant, i))
        if len(out) == n:
            break
    return out


def slot_swaps(queries: list[str], n: int, seed: int) -> list[tuple[str, int, str]]:
    """(swapped query, index of its query, slot) for up to n queries holding a slot value; the slots take turns,
    so no one kind fills the set; a swap whose words equal another test query is dropped."""
    rng = random.Random(seed)
    known = {words_key(q) for q in queries}
    by_slot: dict[str, list[tuple[str, int]]] = {s: [] for s in [*SLOT_LISTS, "number"]}
    for i in rng.sample(range(len(queries)), len(queries)):
        lower = queries[i].lower()
        slots = [s for s, values in SLOT_LISTS.items() if any(re.search(rf"\b{v}\b", lower) for v in values)]
        if _NUMBER.search(lower):
            slots.append("number")
        for slot in slots:
            swapped = _swap(lower, slot, rng)
            if swapped and words_key(swapped) not in known:
                by_slot[slot].append((swapped, i))
    out: list[tuple[str, int, str]] = []
    while len(out) < n and any(by_slot.values()):
        for slot, found in by_slot.items():
            if found and len(out) < n:
                swapped, i = found.pop()
                out.append((swapped, i, slot))
    return out


def _swap(text: str, slot: str, rng: random.Random) -> str | None:
    if slot == "number":
        match = rng.choice(list(_NUMBER.finditer(text)))
        value = int(match.group())
        other = value + rng.choice([1, 2, 3, 5, 10, 12]) if value < 1000 else value * 2
        return text[: match.start()] + str(other) + text[match.end() :]
    values = SLOT_LISTS[slot]
    present = [v for v in values if re.search(rf"\b{v}\b", text)]
    old = rng.choice(present)
    new = rng.choice([v for v in values if v != old and v not in present])
    return re.sub(rf"\b{old}\b", new, text, count=1)


def mmlu_in_post(post: str, question: str, choices: list[str], answer: str, form: str, rng: random.Random) -> str:
    """The post with the MMLU item as a paragraph of its own between two of its paragraphs or sentences."""
    if form == "question":
        item = question
    else:
        lettered = "\n".join(f"{letter}. {c}" for letter, c in zip("ABCD", choices, strict=False))
        item = f"{question}\n{lettered}" + (f"\nAnswer: {answer}" if form == "with answer" else "")
    paragraphs = [p for p in post.split("\n\n") if p.strip()]
    if len(paragraphs) >= 2:
        cut = rng.randint(1, len(paragraphs) - 1)
        return "\n\n".join([*paragraphs[:cut], item, *paragraphs[cut:]])
    sentences = re.split(r"(?<=[.?!])\s+", post)
    cut = rng.randint(0, len(sentences))
    return " ".join([*sentences[:cut], item, *sentences[cut:]])
