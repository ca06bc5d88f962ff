"""Task datasets with planted issues and their ground truth, built deterministically from a seed.

Sources: banking77 and clinc150 from ../shared/data (text), the bundled support tickets (text, always
present), scikit-learn's bundled wine and breast-cancer tables (tabular), and IMDB reviews with real,
MTurk-verified label errors (`imdb_mturk`, `news20_mturk`: nothing planted). Plants: label flips, exact
and near duplicates, leaked benchmark items (the task's benchmark file is built from the clean test
split), class imbalance (a class cut down; nothing to undo), or nothing (a clean control).
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field

from copilot.core.resources import resource_dir
from curation_tools.errors import UserInputError
from curation_tools.query_slots import signature

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


class Source(BaseModel):
    kind: Literal[
        "support_tickets",
        "banking77",
        "clinc150",
        "wine",
        "breast_cancer",
        "case",
        "imdb_mturk",
        "news20_mturk",
        "chats",
    ]
    path: str | None = Field(None, description="case: a DCA-Bench-style case folder (see evals/README.md)")
    classes: int = Field(8, ge=2, description="text sources: how many label classes to keep")
    per_class: int = Field(
        40,
        ge=5,
        description="text sources: training rows per class (imdb_mturk: unreviewed rows per class; chats: banking77 "
        "queries and GSM8K problems each)",
    )
    include: list[str] = Field(default_factory=list, description="banking77/clinc150: classes always kept")


class Plants(BaseModel):
    label_flips: float = Field(0.0, ge=0, le=0.5, description="share of rows whose label is flipped")
    exact_duplicates: int = 0
    near_duplicates: int = 0
    leaks: int = Field(0, description="clean test items copied into the training rows (benchmark = test split)")
    shrink_class: float | None = Field(None, gt=0, lt=1, description="keep this share of one class (imbalance)")
    confuse: tuple[str, str] | None = Field(
        None, description="relabel `confused` rows of the first class as the second"
    )
    confused: int = Field(10, ge=1)
    decoy_copies: int = Field(
        0, ge=0, description="training rows also written to a second file, decoy.jsonl, passed as a benchmark"
    )
    pii: int = Field(0, ge=0, description="chats: values of each kind of personal data planted")
    source_column: float | None = Field(
        None, gt=0, lt=1, description="add a `source` column: this share of rows 'legal', the rest 'web'"
    )


class Truth(BaseModel):
    """What a perfect curator does: the rows to drop and the labels to restore; everything else stays."""

    label_flips: dict[str, str] = Field(default_factory=dict, description="row_id -> the right label")
    duplicates: dict[str, str] = Field(default_factory=dict, description="copy row_id -> original row_id")
    leaks: dict[str, str] = Field(default_factory=dict, description="row_id -> benchmark item id")
    planted_rows: list[str] = Field(default_factory=list)
    decoys: list[str] = Field(default_factory=list, description="rows a decoy benchmark file holds (not leaks)")


class BuiltTask(BaseModel):
    train: str
    test: str
    benchmark: str | None
    kind: Literal["text", "tabular"]
    label: str
    truth: Truth
    goal: str = ""
    extra_benchmarks: list[str] = Field(default_factory=list)


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise UserInputError(f"{path} is missing: this task needs the shared evaluation data beside the checkout.")
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [json.loads(line) for line in raw.decode("utf-8").split("\n") if line.strip()]


def _text_source(source: Source, rng: random.Random) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) frames with columns text, label."""
    if source.kind == "support_tickets":
        frame = pd.read_csv(resource_dir("examples") / "support_tickets.csv")
        truth = json.loads((resource_dir("examples") / "support_tickets.truth.json").read_text())
        # rows that copy an evaluation query as drawn (natural_copies) are not clean: leaving them in would make
        # a right decontam drop count as a wrong change
        planted = (
            set(truth["label_flips"]) | set(truth["duplicates"]) | set(truth["leaks"]) | set(truth["natural_copies"])
        )
        clean = frame[~frame["ticket_id"].isin(planted)].rename(columns={"intent": "label"})[["text", "label"]]
        test = pd.DataFrame(read_jsonl(resource_dir("examples") / "bank_eval.jsonl")).rename(
            columns={"query": "text", "intent": "label"}
        )[["text", "label"]]
        return clean.reset_index(drop=True), test
    if source.kind == "banking77":
        rows = read_jsonl(SHARED / "banking77" / "banking77_train.jsonl")
        tests = read_jsonl(SHARED / "banking77" / "banking77_test.jsonl")
    else:
        everything = read_jsonl(SHARED / "clinc150" / "clinc150_full.jsonl")
        rows = [r for r in everything if r["split"] == "train" and r["label_name"] != "oos"]
        tests = [r for r in everything if r["split"] == "test" and r["label_name"] != "oos"]
    names = sorted({r["label_name"] for r in rows})
    unknown = set(source.include) - set(names)
    if unknown:
        raise UserInputError(f"classes {', '.join(sorted(unknown))} are not in {source.kind}")
    others = [n for n in names if n not in source.include]
    keep = set(source.include) | set(rng.sample(others, max(source.classes - len(source.include), 0)))
    seen: set[str] = set()
    train = []
    for name in sorted(keep):
        pool = [r for r in rows if r["label_name"] == name and r["text"].lower() not in seen]
        for r in rng.sample(pool, min(source.per_class, len(pool))):
            seen.add(r["text"].lower())
            train.append({"text": r["text"], "label": name})
    test = [{"text": r["text"], "label": r["label_name"]} for r in tests if r["label_name"] in keep]
    # a test query the training rows copy (a surface variant of one: query_slots) would be a leak nobody planted
    copied = {signature(t["text"]) for t in train}
    test = [t for t in test if signature(t["text"]) not in copied]
    return pd.DataFrame(train), pd.DataFrame(test)


def _tabular_source(source: Source, rng: random.Random) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.datasets import load_breast_cancer, load_wine

    bunch = load_wine() if source.kind == "wine" else load_breast_cancer()
    frame = pd.DataFrame(bunch.data, columns=[c.replace(" ", "_").replace("/", "_") for c in bunch.feature_names])
    frame["label"] = [str(bunch.target_names[t]) for t in bunch.target]
    order = list(range(len(frame)))
    rng.shuffle(order)
    cut = int(len(order) * 0.75)
    return frame.iloc[order[:cut]].reset_index(drop=True), frame.iloc[order[cut:]].reset_index(drop=True)


def _near_copy(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) > 3:
        i = rng.randrange(len(words))
        words.insert(i, rng.choice(["please", "really", "just", "now"]))
    return " ".join(words).upper() if rng.random() < 0.5 else " ".join(words) + " !"


def load_case(path: Path, folder: Path) -> BuiltTask:
    """A DCA-Bench-style case: a folder with train.csv (row_id, label, text or features), optional test.csv and
    benchmark.jsonl, and case.yaml: `description` (the issue to discover, given as the goal) and `truth`."""
    import yaml

    if not (path / "train.csv").is_file() or not (path / "case.yaml").is_file():
        raise UserInputError(f"{path}: a case folder needs train.csv and case.yaml (see evals/README.md).")
    spec = yaml.safe_load((path / "case.yaml").read_text(encoding="utf-8")) or {}
    folder.mkdir(parents=True, exist_ok=True)
    train = pd.read_csv(path / "train.csv")
    test = path / "test.csv"
    if not test.is_file():  # no clean test split: score downstream on the training rows themselves
        test = path / "train.csv"
    benchmark = path / "benchmark.jsonl"
    return BuiltTask(
        train=str(path / "train.csv"),
        test=str(test),
        benchmark=f"{benchmark}:text" if benchmark.is_file() else None,
        kind="text" if "text" in train.columns else "tabular",
        label="label",
        truth=Truth.model_validate(spec.get("truth") or {}),
        goal=str(spec.get("description", "")),
    )


def mturk_real_errors(source: Source, rng: random.Random, folder: Path) -> BuiltTask:
    """Real label noise with its ground truth: the IMDB or 20 Newsgroups test rows that cleanlab's label-errors
    study sent to five MTurk workers, where a majority either kept the given label (clean) or chose another one (a
    real error; the truth is the workers' label), plus `per_class` unreviewed rows per class taken as clean (the
    study reviewed the likeliest errors, so a few real errors may hide among them). Nothing is planted."""
    folder.mkdir(parents=True, exist_ok=True)
    name, stem = ("imdb", "imdb_test") if source.kind == "imdb_mturk" else ("20news", "20news_test")
    reviews = read_jsonl(SHARED / name / f"{stem}.jsonl.gz")
    verdicts = read_jsonl(SHARED / name / f"{stem}_mturk_label_errors.jsonl")
    index = {int(r["idx"]): r for r in reviews} if "idx" in reviews[0] else dict(enumerate(reviews))

    def first(idx: int | list[int]) -> int:
        return int(idx[0]) if isinstance(idx, list) else int(idx)

    reviewed = {first(v["idx"]) for v in verdicts}
    rows, truth = [], Truth()
    for verdict in verdicts:
        if name == "imdb":  # a majority kept the label, or chose the other
            if verdict["mturk_majority"] not in ("given", "guessed"):
                continue
            wrong = verdict["mturk_majority"] == "guessed"
        else:  # the 82 the label-errors study counts as verified: fewer than 3 of 5 workers kept the given label
            wrong = verdict["mturk_votes"]["given"] < 3
        row_id = f"r{len(rows):05d}"
        text = index[first(verdict["idx"])]["text"]
        rows.append({"row_id": row_id, "text": text, "label": verdict["given_label_name"]})
        if wrong:
            truth.label_flips[row_id] = verdict["guessed_label_name"]
    others = [r for i, r in index.items() if i not in reviewed]
    rng.shuffle(others)
    test = []
    for label in sorted({r["label_name"] for r in others}):
        pool = [r for r in others if r["label_name"] == label]
        for r in pool[: source.per_class]:
            rows.append({"row_id": f"r{len(rows):05d}", "text": r["text"], "label": label})
        test += [{"text": r["text"], "label": label} for r in pool[source.per_class : 2 * source.per_class]]
    truth.planted_rows = sorted(truth.label_flips)
    train_path, test_path = folder / "train.csv", folder / "test.csv"
    pd.DataFrame(rows).to_csv(train_path, index=False)
    pd.DataFrame(test).to_csv(test_path, index=False)
    return BuiltTask(
        train=str(train_path), test=str(test_path), benchmark=None, kind="text", label="label", truth=truth
    )


def build(source: Source, plants: Plants, seed: int, folder: Path) -> BuiltTask:
    if source.kind in ("imdb_mturk", "news20_mturk"):
        return mturk_real_errors(source, random.Random(seed), folder)
    if source.kind == "case":
        if not source.path:
            raise UserInputError("a 'case' source needs path: the case folder")
        return load_case(Path(source.path), folder)
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    kind = "tabular" if source.kind in ("wine", "breast_cancer") else "text"
    train, test = (_tabular_source if kind == "tabular" else _text_source)(source, rng)
    truth = Truth()
    if plants.shrink_class:
        victim = sorted(train["label"].unique())[0]
        members = train.index[train["label"] == victim].tolist()
        drop = rng.sample(members, round(len(members) * (1 - plants.shrink_class)))
        train = train.drop(index=drop).reset_index(drop=True)
    train.insert(0, "row_id", [f"r{i:05d}" for i in range(len(train))])
    labels = sorted(train["label"].unique())
    for i in rng.sample(range(len(train)), round(plants.label_flips * len(train))):
        right = train.at[i, "label"]
        train.at[i, "label"] = rng.choice([lab for lab in labels if lab != right])
        truth.label_flips[train.at[i, "row_id"]] = right
    if plants.confuse:
        a, b = plants.confuse
        members = [
            i for i in train.index if train.at[i, "label"] == a and train.at[i, "row_id"] not in truth.label_flips
        ]
        for i in rng.sample(members, min(plants.confused, len(members))):
            train.at[i, "label"] = b
            truth.label_flips[train.at[i, "row_id"]] = a
    flipped = set(truth.label_flips)
    extra = []
    originals = [r for r in train.to_dict("records") if r["row_id"] not in flipped]
    for n, original in enumerate(rng.sample(originals, plants.exact_duplicates + plants.near_duplicates)):
        copy = dict(original, row_id=f"d{n:04d}")
        if kind == "text" and n >= plants.exact_duplicates:
            copy["text"] = _near_copy(original["text"], rng)
        extra.append(copy)
        truth.duplicates[copy["row_id"]] = original["row_id"]
    benchmark = None
    if plants.leaks:
        if kind != "text":
            raise UserInputError("leaks are planted into text tasks only")
        items = test.reset_index(drop=True)
        for n, i in enumerate(rng.sample(range(len(items)), plants.leaks)):
            extra.append({"row_id": f"l{n:04d}", "text": items.at[i, "text"], "label": items.at[i, "label"]})
            truth.leaks[f"l{n:04d}"] = str(i)
        benchmark = folder / "benchmark.jsonl"
        items.assign(id=[str(i) for i in range(len(items))])[["id", "text"]].to_json(
            benchmark, orient="records", lines=True
        )
    extra_benchmarks = []
    if plants.decoy_copies:
        clean = [r for r in train.to_dict("records") if r["row_id"] not in flipped]
        decoys = rng.sample(clean, plants.decoy_copies)
        truth.decoys = sorted(r["row_id"] for r in decoys)
        decoy = folder / "decoy.jsonl"
        pd.DataFrame([{"id": f"q{n}", "text": r["text"]} for n, r in enumerate(decoys)]).to_json(
            decoy, orient="records", lines=True
        )
        extra_benchmarks.append(f"{decoy}:text")
    for record in extra:
        train.loc[len(train)] = record
    if plants.source_column:
        legal = set(rng.sample(range(len(train)), round(plants.source_column * len(train))))
        train["source"] = ["legal" if i in legal else "web" for i in range(len(train))]
    train = train.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    truth.planted_rows = sorted(set(truth.label_flips) | set(truth.duplicates) | set(truth.leaks))
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    return BuiltTask(
        train=str(folder / "train.csv"),
        test=str(folder / "test.csv"),
        benchmark=None if benchmark is None else f"{benchmark}:text",
        kind=kind,
        label="label",
        truth=truth,
        extra_benchmarks=extra_benchmarks,
    )
