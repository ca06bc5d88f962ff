"""Augmentation: fill thin classes with synthetic rows that pass the same checks as real data.

Plan: classes under the target count (default: the median class size) get up to --max-per-class rows.
Text: a TextGenerator (an LLM, through the copilot; tools never import an SDK) writes rows from diverse real
exemplars of the class (the rows nearest to k-means centroids of its embeddings); without a generator the
proposal says plainly that no text was generated. Tabular: SMOTE, or SMOTE-NC with categorical features
(imbalanced-learn). Every candidate then goes through filters, each counted in the report: sanity (empty,
length, script), duplicates of real rows or of each other (our dedup tool), contamination (our decontam tool,
when benchmarks are given), and label consistency (a classifier trained on the real rows must find the
row's label at least half as likely as its top class). Accepted rows are `add_rows` findings with provenance.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from curation_tools import __version__
from curation_tools.context import GenerationRequest, ToolContext
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.errors import UserInputError
from curation_tools.schema import Action, Evidence, Finding, Proposal, ToolResult, ToolSpec
from curation_tools.text import SHORT_TEXT_WORDS, normalize


class AugmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error, not ignored

    target_count: int | None = Field(
        None, ge=2, le=1_000_000, description="rows per class to reach (default: the median class size)"
    )
    max_per_class: int = Field(50, ge=1, le=100_000, description="at most this many new rows per class")
    exemplars: int = Field(8, ge=1, le=50, description="real exemplars shown to the generator per class")
    min_chars: int = Field(3, ge=0, le=10_000, description="shorter generated texts are rejected")
    max_chars: int = Field(2000, ge=10, le=100_000, description="longer generated texts are rejected")
    label_ratio: float = Field(
        0.5,
        gt=0,
        le=1,
        description="reject a row whose label a real-data classifier finds under this times as likely as its top class",
    )
    semantic_threshold: float = Field(0.99, gt=0, le=1, description="cosine at which a row repeats a real one")
    benchmark: list[str] = Field(
        default_factory=list,
        description="benchmark files to check synthetic rows against (PATH[:FIELDS])",
        json_schema_extra={"repeatable": True},
    )


def plan_counts(labels: pd.Series, params: AugmentParams) -> dict[str, int]:
    counts = labels.astype(str).value_counts()
    target = params.target_count or int(counts.median())
    return {label: min(target - n, params.max_per_class) for label, n in counts.items() if n < target}


def _script(text: str) -> str:
    """The dominant Unicode script of a text's letters (LATIN, CJK, CYRILLIC, ...)."""
    scripts = Counter(unicodedata.name(c, "UNKNOWN").split()[0] for c in text if c.isalpha())
    return scripts.most_common(1)[0][0] if scripts else "NONE"


def _exemplars(texts: pd.Series, k: int, ctx: ToolContext) -> pd.Series:
    """The real rows nearest to k-means centroids of the class's embeddings: diverse, representative."""
    if len(texts) <= k:
        return texts
    from sklearn.cluster import KMeans

    vectors = np.asarray(ctx.embedder.embed(texts.tolist()), dtype=np.float32)
    model = KMeans(n_clusters=k, n_init=4, random_state=ctx.seed).fit(vectors)
    picks = sorted({int(np.argmax(vectors @ c)) for c in model.cluster_centers_})
    return texts.iloc[picks]


class _Candidates:
    """Synthetic rows on their way through the filters; rejected ones are counted by filter."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame.reset_index(drop=True)
        self.rejected: dict[str, int] = {}

    def reject(self, name: str, mask: np.ndarray) -> None:
        self.rejected[name] = self.rejected.get(name, 0) + int(mask.sum())
        self.frame = self.frame[~mask].reset_index(drop=True)


def _filter_text(cands: _Candidates, data: Dataset, params: AugmentParams, ctx: ToolContext) -> None:
    texts = cands.frame["text"].astype(str).str.strip()
    cands.reject(
        "empty_or_length", ((texts.str.len() < params.min_chars) | (texts.str.len() > params.max_chars)).to_numpy()
    )
    real_texts = data.texts()
    usual = Counter(_script(t) for t in real_texts.head(2000)).most_common(1)[0][0]
    cands.reject("script", (cands.frame["text"].map(_script) != usual).to_numpy())
    if cands.frame.empty:
        return
    from curation_tools.dedup import DedupParams
    from curation_tools.dedup import run as run_dedup

    cands.reject("stitched", _stitched(cands.frame["text"].astype(str), real_texts))
    if cands.frame.empty:
        return
    combined = _text_dataset(real_texts.tolist() + cands.frame["text"].tolist())
    dedup = DedupParams(method=["exact", "near", "semantic"], semantic_threshold=params.semantic_threshold)
    dropped = {f.row_id for f in run_dedup(combined, dedup, ctx).findings}
    n_real = len(real_texts)
    cands.reject("duplicate", np.array([str(n_real + i) in dropped for i in range(len(cands.frame))], dtype=bool))
    if params.benchmark and not cands.frame.empty:
        cands.reject("contamination", _contaminated(cands.frame["text"], params, ctx))
    if not cands.frame.empty:
        real = np.asarray(ctx.embedder.embed(real_texts.tolist()), dtype=np.float32)
        new = np.asarray(ctx.embedder.embed(cands.frame["text"].tolist()), dtype=np.float32)
        cands.reject("label_inconsistent", _label_inconsistent(real, data.labels(), new, cands.frame["label"], params))


def _sentence_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", normalize(text)).split())


STITCH_MIN_WORDS = 4
"""a sentence counts as a copied row from this many words: on real SMS, "Ok..." or "I'm home." are rows too"""


def _stitched(texts: pd.Series, real_texts: pd.Series) -> np.ndarray:
    """Rows glued from existing rows: at least two sentences of STITCH_MIN_WORDS or more that are real rows word
    for word (case and punctuation aside), making up at least half the row. The local 0.5B wrote "How much will my
    state taxes be? How much are taxes on this? ..." from four of its exemplars; each sentence alone is a copy, so
    the near-duplicate check misses it."""
    known = {_sentence_key(t) for t in real_texts}

    def glued(text: str) -> bool:
        parts = [key for key in map(_sentence_key, re.split(r"(?<=[.?!])\s+", text.strip())) if key]
        copied = sum(key in known and len(key.split()) >= STITCH_MIN_WORDS for key in parts)
        return copied >= 2 and 2 * copied >= len(parts)

    return texts.map(glued).to_numpy(dtype=bool)


def _contaminated(texts: pd.Series, params: AugmentParams, ctx: ToolContext) -> np.ndarray:
    """Rows that copy a benchmark item; short rows only verbatim (see SHORT_TEXT_WORDS)."""
    from curation_tools.decontam import DecontamParams
    from curation_tools.decontam import run as run_decontam

    short = (texts.str.split().str.len() < SHORT_TEXT_WORDS).to_numpy()
    hit = np.zeros(len(texts), dtype=bool)
    for paraphrase in (False, True):
        positions = np.flatnonzero(short != paraphrase)
        if len(positions) == 0:
            continue
        params_ = DecontamParams(benchmark=params.benchmark, paraphrase=paraphrase)
        found = run_decontam(_text_dataset(texts.iloc[positions].tolist()), params_, ctx)
        hit[positions[[int(f.row_id) for f in found.findings]]] = True
    return hit


def _label_inconsistent(
    real: np.ndarray, real_labels: pd.Series, new: np.ndarray, new_labels: pd.Series, params: AugmentParams
) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    # balanced: a thin class is the one being augmented, and must not lose to the big ones by its size alone
    model = LogisticRegression(max_iter=2000, class_weight="balanced").fit(real, real_labels.astype(str))
    proba = model.predict_proba(new)
    column = {c: i for i, c in enumerate(model.classes_)}
    own = proba[np.arange(len(new)), [column[label] for label in new_labels.astype(str)]]
    return own < params.label_ratio * proba.max(axis=1)


def _text_dataset(texts: list[str]) -> Dataset:
    frame = pd.DataFrame({"text": texts}, index=pd.Index([str(i) for i in range(len(texts))], name="row_id"))
    return Dataset(frame=frame, roles=Roles(text=["text"]), source=DataSource(path="<augment>", format="csv"))


def _generate(
    data: Dataset, plan: dict[str, int], params: AugmentParams, ctx: ToolContext
) -> tuple[pd.DataFrame, dict]:
    texts, labels = data.texts(), data.labels().astype(str)
    rows, provenance = [], {}
    for label, n in plan.items():
        chosen = _exemplars(texts[labels == label], params.exemplars, ctx)
        generated = ctx.generator.generate(
            GenerationRequest(label=label, exemplars=chosen.tolist(), n=n, seed=ctx.seed)
        )
        provenance[label] = list(chosen.index)
        rows += [{"text": t, "label": label} for t in generated[:n]]
        ctx.check_cancelled()
    return pd.DataFrame(rows, columns=["text", "label"]), provenance


def _smote(data: Dataset, plan: dict[str, int], ctx: ToolContext) -> tuple[pd.DataFrame, str]:
    from imblearn.over_sampling import SMOTE, SMOTENC

    features = data.frame[data.roles.features]
    labels = data.labels().astype(str)
    categorical = [i for i, c in enumerate(features.columns) if not pd.api.types.is_numeric_dtype(features[c])]
    counts = labels.value_counts()
    strategy = {label: int(counts[label] + n) for label, n in plan.items()}
    k = max(1, min(5, int(counts[list(plan)].min()) - 1))
    if categorical:
        sampler, method = (
            SMOTENC(categorical_features=categorical, sampling_strategy=strategy, k_neighbors=k, random_state=ctx.seed),
            "SMOTE-NC",
        )
    else:
        sampler, method = SMOTE(sampling_strategy=strategy, k_neighbors=k, random_state=ctx.seed), "SMOTE"
    x, y = sampler.fit_resample(features, labels)
    new = pd.DataFrame(x, columns=features.columns).iloc[len(features) :]
    new["label"] = np.asarray(y)[len(features) :]
    return new.reset_index(drop=True), method


def run(data: Dataset, params: AugmentParams, ctx: ToolContext) -> ToolResult:
    started = time.perf_counter()
    data.require(["label"], SPEC.name)
    labels = data.labels().astype(str)
    if labels.nunique() < 2:
        raise UserInputError("augment needs at least two classes to balance.")
    plan = plan_counts(labels, params)
    label_col = data.roles.label
    report: dict = {"plan": plan, "rejected": {}, "offered": 0}
    findings: list[Finding] = []
    if not plan:
        summary = "no class is under the target count: nothing to add"
    elif data.roles.text and ctx.generator is None:
        summary = (
            f"{len(plan)} thin classes ({sum(plan.values())} rows wanted), but no LLM generator is configured: "
            "no text was generated. Configure an OpenAI-compatible endpoint to augment text."
        )
        report["offline"] = True
    else:
        if data.roles.text:
            candidates, exemplar_ids = _generate(data, plan, params, ctx)
            method, model, version = "llm", ctx.generator.model, ctx.generator.prompt_version
        else:
            if not data.roles.features:
                raise UserInputError("augment found no text and no feature columns to learn from.")
            candidates, method = _smote(data, plan, ctx)
            model, version, exemplar_ids = None, None, {}
        report["offered"] = len(candidates)
        cands = _Candidates(candidates)
        if data.roles.text:
            _filter_text(cands, data, params, ctx)
        else:
            real_keys = set(pd.util.hash_pandas_object(data.frame[data.roles.features], index=False))
            new_keys = pd.util.hash_pandas_object(cands.frame[data.roles.features], index=False)
            cands.reject("duplicate", new_keys.isin(real_keys).to_numpy())
        report["rejected"] = cands.rejected
        text_col = data.roles.text[0] if data.roles.text else None
        for i, row in cands.frame.iterrows():
            new_row = {text_col: row["text"]} if text_col else {c: row[c] for c in data.roles.features}
            new_row[label_col] = row["label"]
            origin = {
                "origin": "synthetic",
                "method": method,
                "model": model,
                "prompt_version": version,
                "seed": ctx.seed,
                "exemplar_ids": exemplar_ids.get(row["label"], []),
            }
            findings.append(
                Finding(
                    row_id=f"syn-{row['label']}-{i:04d}",
                    issue="augmentation",
                    score=1.0,
                    action=Action(type="add_rows", new_row=new_row, origin=origin),
                    evidence=Evidence(given_label=row["label"], method=method),
                    message=f"new {method} row for thin class {row['label']!r}",
                )
            )
        summary = (
            f"{len(findings)} synthetic rows for {len(plan)} thin classes ({method}); "
            f"{sum(cands.rejected.values())} of {report['offered']} rejected by the filters"
        )
    proposal = Proposal(
        tool=SPEC.name, tool_version=__version__, params=params.model_dump(), findings=findings, summary=summary
    )
    return ToolResult(proposal=proposal, report=report, elapsed_s=time.perf_counter() - started)


SPEC = ToolSpec(
    name="augment",
    version=__version__,
    summary="Synthetic rows for thin classes (LLM text or SMOTE), filtered by our duplicate, leak and label checks.",
    issue_types=["augmentation"],
    required_roles=["label"],
    params_model=AugmentParams,
    output="rows",
    run=run,
    role="augmenting",
    stage=3,
    benchmarks="optional",
    run_owned=["benchmark"],
)
