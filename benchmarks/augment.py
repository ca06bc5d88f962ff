"""Augmentation: do our filters stop bad synthetic rows and keep good ones, and does augmenting help?

Text: CLINC150's official imbalanced train split (../shared/data/clinc150). A scripted generator stands in
for the LLM: for each thin class it returns real held-back examples of that class (from the full train split,
not in the imbalanced one: "good") mixed with planted bad outputs: copies of existing rows (verbatim and
reformatted), rows of another class, CLINC150 test items (the benchmark), empty text and text in another
script. We count what each filter stops and what survives, then train a fixed classifier (TF-IDF + logistic
regression) on the imbalanced split with and without the accepted rows and report accuracy on CLINC150 test
for the augmented classes. Tabular: scikit-learn's breast cancer data with the minority class cut to 15%;
minority recall and macro F1 of a fixed logistic regression before and after SMOTE rows. `tune`: the
semantic-duplicate threshold chosen on banking77. `llm`: the text part with the configured endpoint's model
as the generator (OPENAI_BASE_URL, OPENAI_API_KEY, CURATE_MODEL) for --llm-classes thin classes.

    PYTHONWARNINGS=ignore python benchmarks/augment.py [--shared ../shared/data] [--parts text,tabular,tune,llm]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from jsonl import records

from curation_tools.augment import AugmentParams, plan_counts, run
from curation_tools.context import GenerationRequest, ToolContext
from curation_tools.dataset import Dataset, DataSource, Roles

BAD_KINDS = ("copy", "reformatted_copy", "other_class", "benchmark_item", "empty", "other_script")
OFF_SCRIPT = ["我想知道我的账户余额是多少", "Какая погода будет завтра в Москве", "明日の天気を教えてください"]


class PlantingGenerator:
    """Good = held-back real rows of the class; bad = one of each planted kind per class, recorded."""

    model = "scripted (held-back real rows + planted bad outputs)"
    prompt_version = 0

    def __init__(self, held_back, train, test, seed: int) -> None:
        self.held_back, self.train, self.test = held_back, train, test
        self.rng = random.Random(seed)
        self.records: list[tuple[str, str, str]] = []  # (label, text, kind) of every output

    def generate(self, request: GenerationRequest) -> list[str]:
        label = request.label
        good = self.held_back.get(label, [])[: max(0, request.n - len(BAD_KINDS))]
        own = self.train[label]
        others = [t for lab, texts in self.held_back.items() if lab != label for t in texts[:2]]
        bad = {
            "copy": self.rng.choice(own),
            "reformatted_copy": "  " + self.rng.choice(own).upper() + " ?",
            "other_class": self.rng.choice(others),
            "benchmark_item": self.rng.choice(self.test.get(label, own)),
            "empty": "  ",
            "other_script": self.rng.choice(OFF_SCRIPT),
        }
        self.records += [(label, text, "good") for text in good]
        self.records += [(label, text, kind) for kind, text in bad.items()]
        outputs = good + list(bad.values())
        self.rng.shuffle(outputs)
        return outputs


def _accuracy(train: pd.DataFrame, test: pd.DataFrame, classes: set[str]) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=3000))
    model.fit(train["text"], train["label"])
    sel = test["label"].isin(classes)
    return float((model.predict(test.loc[sel, "text"]) == test.loc[sel, "label"]).mean())


def _labelled(path: Path) -> pd.DataFrame:
    frame = pd.DataFrame(records(path))
    return frame[frame["label_name"] != "oos"].drop(columns="label").rename(columns={"label_name": "label"})


def _augment(imbalanced, held, test, params: AugmentParams, seed: int):
    """Run the tool with the planting generator; returns (generator, result, seconds)."""
    generator = PlantingGenerator(
        {k: list(v) for k, v in held.groupby("label")["text"]},
        {k: list(v) for k, v in imbalanced.groupby("label")["text"]},
        {k: list(v) for k, v in test.groupby("label")["text"]},
        seed,
    )
    return (generator, *_run_tool(imbalanced, test, params, generator, seed))


def _run_tool(imbalanced, test, params: AugmentParams, generator, seed: int):
    """The augment tool on the imbalanced rows, test as the session's benchmark; returns (result, seconds)."""
    frame = imbalanced[["text", "label"]].reset_index(drop=True)
    frame.index = pd.Index([str(i) for i in frame.index], name="row_id")
    data = Dataset(
        frame=frame, roles=Roles(text=["text"], label="label"), source=DataSource(path="intents", format="csv")
    )
    with tempfile.TemporaryDirectory() as tmp:
        bench = Path(tmp) / "test.jsonl"
        test[["text"]].to_json(bench, orient="records", lines=True)
        ctx = ToolContext(cache_dir=Path(__file__).parent / ".cache" / "augment", seed=seed, generator=generator)
        started = time.perf_counter()
        result = run(data, params.model_copy(update={"benchmark": [f"{bench}:text"]}), ctx)
    return result, time.perf_counter() - started


def _kept(generator: PlantingGenerator, result) -> tuple[Counter, Counter, list[dict]]:
    accepted = [f.action.new_row for f in result.findings]
    offered = Counter(kind for _, _, kind in generator.records)
    kind_of = {(label, text): kind for label, text, kind in generator.records}
    return offered, Counter(kind_of.get((r["label"], r["text"]), "unknown") for r in accepted), accepted


def text_part(shared: Path, seed: int) -> None:
    folder = shared / "clinc150"
    imbalanced, full = _labelled(folder / "clinc150_imbalanced_train.jsonl"), _labelled(folder / "clinc150_full.jsonl")
    held = full[(full["split"] == "train") & ~full["text"].isin(set(imbalanced["text"]))]
    test = full[full["split"] == "test"]
    params = AugmentParams()
    generator, result, elapsed = _augment(imbalanced, held, test, params, seed)
    offered, kept, accepted = _kept(generator, result)
    plan = plan_counts(imbalanced["label"], params)
    print(f"text: {len(plan)} thin classes, {sum(plan.values())} rows wanted; filters took {elapsed:.0f}s")
    print("| output kind | offered | kept | stopped |\n|---|---|---|---|")
    for kind in ("good", *BAD_KINDS):
        print(f"| {kind} | {offered[kind]} | {kept[kind]} | {offered[kind] - kept[kind]} |")
    bad_offered = sum(offered[k] for k in BAD_KINDS)
    bad_kept = sum(kept[k] for k in BAD_KINDS)
    print(
        f"bad stopped: {1 - bad_kept / bad_offered:.3f} ({bad_offered - bad_kept}/{bad_offered}); "
        f"good kept: {kept['good'] / max(offered['good'], 1):.3f} ({kept['good']}/{offered['good']}); "
        f"rejected by filter: {json.dumps(result.report['rejected'])}"
    )
    augmented = pd.concat([imbalanced[["text", "label"]], pd.DataFrame(accepted)], ignore_index=True)
    before = _accuracy(imbalanced, test, set(plan))
    after = _accuracy(augmented, test, set(plan))
    print(
        f"CLINC150 test accuracy on the {len(plan)} augmented classes: {before:.3f} without, {after:.3f} with "
        f"({after - before:+.3f})"
    )


def llm_part(shared: Path, seed: int, classes: int, show: int = 20) -> None:
    """The same CLINC150 setup with the configured endpoint's model as the generator (no planted rows, so
    outputs cannot be sorted into good and bad: filter counts, accuracy and LLM usage are reported)."""
    from copilot.core.config import Settings
    from copilot.llm.client import LLMClient
    from copilot.llm.judge import LLMTextGenerator

    settings = Settings()
    if not settings.llm_configured:
        raise SystemExit("--parts llm needs an endpoint: set OPENAI_BASE_URL (and OPENAI_API_KEY, CURATE_MODEL)")
    folder = shared / "clinc150"
    imbalanced, full = _labelled(folder / "clinc150_imbalanced_train.jsonl"), _labelled(folder / "clinc150_full.jsonl")
    test = full[full["split"] == "test"]
    thin = list(plan_counts(imbalanced["label"], AugmentParams()))[:classes]
    client = LLMClient(settings)
    generator = _OnlyClasses(LLMTextGenerator(client), set(thin))
    result, _ = _run_tool(imbalanced, test, AugmentParams(), generator, seed)
    accepted = pd.DataFrame([f.action.new_row for f in result.findings], columns=["text", "label"])
    before = _accuracy(imbalanced, test, set(thin))
    after = _accuracy(pd.concat([imbalanced[["text", "label"]], accepted]), test, set(thin))
    usage = client.usage
    print(
        f"llm ({settings.model}): {len(thin)} thin classes; {result.report['offered']} rows generated, "
        f"{len(accepted)} kept; rejected by filter: {json.dumps(result.report['rejected'])}"
    )
    print(f"CLINC150 test accuracy on those classes: {before:.3f} without, {after:.3f} with ({after - before:+.3f})")
    print(f"LLM: {usage.calls} calls, {usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
    kept = set(zip(accepted["label"], accepted["text"], strict=True))
    rows = [(label, text, (label, text) in kept) for label, text in dict.fromkeys(generator.outputs)]
    for shown, wanted in (("kept", True), ("stopped", False)):
        sample = [r for r in rows if r[2] is wanted][:show]
        print(f"\n{shown} ({sum(r[2] is wanted for r in rows)} distinct), the first {len(sample)}:")
        for label, text, _ in sample:
            print(f"- [{label}] {text[:160]!r}")


class _OnlyClasses:
    """A generator that answers for some classes only (to bound the cost of a real-model run)."""

    def __init__(self, inner, classes: set[str]) -> None:
        self.inner, self.classes = inner, classes
        self.model, self.prompt_version = inner.model, inner.prompt_version
        self.outputs: list[tuple[str, str]] = []  # (label, text): everything the model wrote, to read

    def generate(self, request: GenerationRequest) -> list[str]:
        texts = self.inner.generate(request) if request.label in self.classes else []
        self.outputs += [(request.label, t) for t in texts]
        return texts


def tune_part(shared: Path, seed: int) -> None:
    """The semantic-duplicate threshold, chosen on banking77 (never on CLINC150): 30 of its 77 classes cut to
    20-60 rows, the cut rows are the held-back good outputs; downstream accuracy on banking77 test decides."""
    folder = shared / "banking77"
    train, test = _labelled(folder / "banking77_train.jsonl"), _labelled(folder / "banking77_test.jsonl")
    rng = np.random.default_rng(seed)
    thin = set(rng.choice(sorted(train["label"].unique()), size=30, replace=False))
    keep = pd.concat(
        group.sample(min(int(rng.integers(20, 61)), len(group)), random_state=seed) if label in thin else group
        for label, group in train.groupby("label")
    )
    held = train.drop(index=keep.index)
    plan = plan_counts(keep["label"], AugmentParams())
    before = _accuracy(keep, test, set(plan))
    print(f"tune (banking77): {len(plan)} thin classes; accuracy on them without augmenting {before:.3f}")
    print("| semantic threshold | good kept | bad stopped | accuracy on thin classes |\n|---|---|---|---|")
    for threshold in (0.95, 0.97, 0.98, 0.99, 1.0):
        generator, result, _ = _augment(keep, held, test, AugmentParams(semantic_threshold=threshold), seed)
        offered, kept, accepted = _kept(generator, result)
        bad = sum(offered[k] for k in BAD_KINDS)
        after = _accuracy(pd.concat([keep[["text", "label"]], pd.DataFrame(accepted)]), test, set(plan))
        print(
            f"| {threshold} | {kept['good'] / offered['good']:.3f} | "
            f"{1 - sum(kept[k] for k in BAD_KINDS) / bad:.3f} | {after:.4f} |"
        )


def tabular_part(seed: int) -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, recall_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "label"})
    frame["label"] = frame["label"].map({0: "malignant", 1: "benign"})
    train, test = train_test_split(frame, test_size=0.3, stratify=frame["label"], random_state=seed)
    minority = train[train["label"] == "malignant"].sample(frac=0.15, random_state=seed)
    train = pd.concat([train[train["label"] == "benign"], minority]).reset_index(drop=True)
    features = [c for c in train.columns if c != "label"]
    train.index = pd.Index([str(i) for i in train.index], name="row_id")
    data = Dataset(
        frame=train, roles=Roles(features=features, label="label"), source=DataSource(path="bc", format="csv")
    )
    result = run(data, AugmentParams(max_per_class=500), ToolContext(cache_dir=Path(tempfile.mkdtemp()), seed=seed))
    new = pd.DataFrame([f.action.new_row for f in result.findings])
    augmented = pd.concat([train, new], ignore_index=True)

    def fit_score(rows: pd.DataFrame) -> tuple[float, float]:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(rows[features], rows["label"])
        predicted = model.predict(test[features])
        return (
            recall_score(test["label"], predicted, pos_label="malignant"),
            f1_score(test["label"], predicted, average="macro"),
        )

    (r0, f0), (r1, f1) = fit_score(train), fit_score(augmented)
    print(
        f"tabular: breast cancer, malignant cut to {len(minority)} rows; {len(new)} SMOTE rows accepted "
        f"(rejected: {json.dumps(result.report['rejected'])})"
    )
    print(f"minority recall {r0:.3f} -> {r1:.3f}; macro F1 {f0:.3f} -> {f1:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--parts", default="text,tabular")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--llm-classes", type=int, default=10, help="thin classes the real model writes for")
    parser.add_argument("--show", type=int, default=20, help="llm: rows shown of those kept and of those stopped")
    args = parser.parse_args()
    if "tabular" in args.parts:
        tabular_part(args.seed)
    if "text" in args.parts:
        text_part(args.shared, args.seed)
    if "tune" in args.parts:
        tune_part(args.shared, args.seed)
    if "llm" in args.parts:
        llm_part(args.shared, args.seed, args.llm_classes, args.show)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
