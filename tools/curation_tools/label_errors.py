"""Label errors: out-of-fold probabilities from several views of the data, ensembled, then flagged.

Views (chosen for the data, each fit with stratified K-fold so every probability is out of sample):
  text:    logistic regression on sentence embeddings (a long text: the mean of its windows'); logistic
           regression on TF-IDF word n-grams; leave-one-out kNN votes on embeddings.
  tabular: logistic regression on scaled/one-hot features; histogram gradient boosting; kNN votes.
The ensemble is a weighted mean of the views' probabilities, each view weighted by the inverse square
of its out-of-fold error rate on the given labels, so a view that fits this data poorly counts for less;
each class's probability is then divided by its mean on the rows labelled with it (confident learning's
per-class threshold), so a minority class is not out-voted by the majority's prior. Its probabilities
feed cleanlab's normalized-margin label quality (the ranking: how far the best other class is ahead of
the given label). The default rule (`estimate`) flags
  - every row whose given label is under `ratio` times as likely as the top class (0.5 for two classes,
    0.25 otherwise; with more than two classes only when the top class reaches MIN_CLAIM), and
  - the rows another class leads most clearly, as many as cleanlab's calibrated estimate of the number
    of label errors, where most views vote for that class: the ratio rule alone misses rows under heavy
    noise, which the models partly learn;
  - with two classes, a row of the smaller class only where every view puts it in the larger one and the
    ensemble is as sure of it as of most rows of the larger (a relabel only from the larger's median).
A flag between two classes the data itself mixes (`overlapping_pairs`) is never a relabel: its evidence
states the pair's measured overlap. `--rule ratio` keeps only the first rule, `--rule cleanlab` uses
cleanlab's `find_label_issues`. Multi-label and regression targets go through cleanlab's own support.
Every choice was made on tuning sets disjoint from the reported ones (benchmarks/label_tune.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from curation_tools import __version__
from curation_tools.context import LabelQuestion, ToolContext
from curation_tools.dataset import Dataset
from curation_tools.errors import UserInputError
from curation_tools.label_names import class_names, missing_labels, mixed_kinds, plain
from curation_tools.label_views import Views, build_views, fold_count, regression_predictions
from curation_tools.schema import (
    Action,
    ClassProbability,
    Evidence,
    EvidenceField,
    Finding,
    Neighbour,
    PlanHint,
    Proposal,
    ToolResult,
    ToolSpec,
)

Task = Literal["auto", "multiclass", "multilabel", "regression"]
# Chosen on held-out data (not the benchmark sets): CLINC150 with 8% flips (best F1 between 0.1 and
# 0.25) and 2,000 IMDB reviews with 5% flips (F1 rising up to 0.5+). With two classes the probability
# mass of an ambiguous row is split between just two labels, so a looser ratio is needed.
BINARY_RATIO = 0.5
MULTICLASS_RATIO = 0.25
# The best other class's (calibrated) probability a flag needs; it binds only with more than two classes.
# Chosen on a banking77 tuning sample disjoint from the benchmarks' (73 intents x <= 40 rows, 8% confusable
# or 5% uniform flips): flag precision 0.78/0.72 at 0.3, 0.87/0.83 at 0.4, F1 within 0.01 of the best
# (0.71/0.78). Rows whose best other class is weaker are too often the model's confusion, not a wrong label.
MIN_CLAIM = 0.4
# A flag suggests a relabel when its suggested class's calibrated probability reaches this: the lowest value
# from which the suggestion was right for about 80% or more of the flagged rows on tuning data. More than two
# classes: on the same banking77 sample and CLINC150 (40 rows per class), 79-100% in every 0.1-wide bin from
# 0.5 up, 31-62% below. Two classes (3,000 IMDB reviews disjoint from the benchmark's, 10% pos->neg, 10%
# neg->pos or 5% uniform flips): 85% of the flags from 0.8 up, 64% from 0.7.
RELABEL_CONFIDENCE = 0.5
BINARY_RELABEL_CONFIDENCE = 0.8
OVERLAP_SHARE = 0.3
OVERLAP_RATE = 0.03
OVERLAP_ROWS = 2
"""two classes overlap in the data when, among the rows the tool does not flag, at least OVERLAP_RATE of the pair's
rows (and OVERLAP_ROWS each way) give the other class of the pair OVERLAP_SHARE of their probability or more: rows
labelled right that still read as both. Flipped rows are flagged, so planted noise does not make a pair: on the
CLINC150 tuning cells (benchmarks/label_tune.py) 0-5 pairs per cell, most where confusable noise was planted, and
none on the small eval suite's wine flips (at 0.25 its class_1 / class_2 became a pair and the oracle's F1 fell from
0.931 to 0.881). On real banking77 train: 16 pairs, the intents a person confuses (verify_my_identity /
unable_to_verify_identity 8.3%, card_arrival / card_delivery_estimate 7.2%). A wrong label between two such
classes is a question for the person, not a relabel"""
TYPICAL_QUANTILE = 0.10
"""with two classes of unequal size, a row of the smaller class is flagged as the larger one only where the ensemble
gives it the larger class at least as surely as it gives this quantile of the larger class's own rows (besides every
view voting for it). Real SMS spam (nothing planted) that the models read as ham: 21 rows, 9 of them from the 10th
percentile of ham's own rows up, 4 from the 25th; planted flips of ham on the tuning sets keep 95% of their flags at
the 10th percentile, 80% at the 25th (benchmarks/label_tune.py)"""
STATIC_FROM_TEXTS = 100_000
"""above this many texts `embedding: auto` reads them with the static embedder: MiniLM takes 35 minutes for 1M short
texts on 2 cores, the static table under a minute. With TF-IDF and kNN beside it, the flags on 100,000 rows with
planted flips were as good (F1 0.993 both); on 10,000 rows they were worse (0.912 against 0.942), so small data
keeps the model (benchmarks/README.md, "Embedding at scale")"""
ERROR_FLOOR = 1e-3  # added to a view's out-of-fold error rate so that a view with none keeps a finite weight


class LabelErrorParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error, not ignored

    folds: int = Field(5, ge=2, le=20, description="cross-validation folds for out-of-sample probabilities")
    rule: Literal["estimate", "ratio", "cleanlab"] = Field(
        "estimate",
        description="estimate: the rows another class leads, as many as cleanlab's estimate of the number of label "
        "errors, plus the ratio rule's rows; ratio: given label under RATIO x the top class; cleanlab: "
        "find_label_issues",
    )
    ratio: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="flag when p(given) < ratio * p(top class); default 0.5 for two classes, else 0.25",
    )
    relabel_confidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="suggest relabel (else flag) when the suggested label's calibrated probability is this high; "
        "default 0.8 for two classes, else 0.5",
    )
    task: Task = Field("auto", description="multiclass, multilabel (label cells hold lists) or regression")
    judge_min_confidence: float = Field(
        0.8,
        ge=0.5,
        le=1,
        description="a judge's verdict changes a finding only from this confidence up (both prompt orders agreeing); "
        "below it the verdict is kept as evidence only",
    )
    judge_top: int = Field(
        50, ge=0, le=1000, description="with an LLM judge configured, re-check this many top candidates"
    )
    embedding: Literal["auto", "model", "static"] = Field(
        "auto", description=f"model: the embedder; static: a fast table; auto: static above {STATIC_FROM_TEXTS:,} texts"
    )


def _is_multilabel(labels: pd.Series) -> bool:
    return bool(labels.dropna().map(lambda v: isinstance(v, list | tuple) or hasattr(v, "tolist")).all())


def _task(labels: pd.Series, requested: Task) -> Task:
    if requested != "auto":
        return requested
    if _is_multilabel(labels):
        return "multilabel"
    if pd.api.types.is_float_dtype(labels) and labels.nunique() > 20:
        return "regression"
    return "multiclass"


def _check_classes(labels: pd.Series, folds: int, column: str) -> None:
    counts = labels.map(str).value_counts()
    if len(counts) == len(labels):
        raise UserInputError(
            f"Every value of the label column '{column}' is unique ({len(labels)} rows): it looks like an id "
            f"column, not a label. Pass --label COLUMN with the real label (or --id {column})."
        )
    small = counts[counts < folds]
    if len(small):
        shown = ", ".join(f"'{k}' ({v})" for k, v in small.head(8).items())
        raise UserInputError(
            f"{len(small)} class(es) of '{column}' have fewer rows than the {folds} cross-validation folds: "
            f"{shown}{', ...' if len(small) > 8 else ''}. Merge them into a related class, drop them, "
            f"or lower --folds to {max(2, int(small.min()))}."
        )


def _check_kinds(labels: pd.Series, column: str) -> None:
    """A column of names and numbers ("alarm" and 2) holds two encodings, not one set of classes: learning from it
    would propose relabelling "alarm" to 2."""
    mixed = mixed_kinds(labels)
    if mixed is None:
        return
    numbers, names = mixed

    def shown(counts: dict[str, int]) -> str:
        return ", ".join(f"'{k}' ({v})" for k, v in list(counts.items())[:4]) + (", ..." if len(counts) > 4 else "")

    raise UserInputError(
        f"The label column '{column}' mixes names and numbers: {sum(names.values())} rows are named ({shown(names)}) "
        f"and {sum(numbers.values())} are numbered ({shown(numbers)}). These look like two encodings of the labels; "
        f"map one onto the other (or pass --label COLUMN for a column that uses one) before checking labels."
    )


def _neighbour_evidence(view: Views, row: int, row_ids: list[str], labels: list, k: int = 5) -> list[Neighbour]:
    idx, sim = view.neighbours
    return [
        Neighbour(row_id=row_ids[j], label=labels[j], similarity=round(float(s), 4))
        for j, s in zip(idx[row, :k], sim[row, :k], strict=True)
    ]


@dataclass
class Ensemble:
    """Out-of-fold class probabilities for the labelled rows, a weighted mean over the views."""

    rows: list[str]
    classes: list
    y: np.ndarray
    probs: np.ndarray
    views: dict[str, Views]
    weights: dict[str, float]
    embedder: str | None = None
    """the model that embedded the texts (None: no text)"""

    def votes(self, rows: np.ndarray | None = None) -> np.ndarray:
        """(views, rows) each view's top class after the same per-class calibration as the ensemble: raw, a view
        trained on 13% spam puts nearly every unusual spam in ham."""
        picked = np.arange(len(self.y)) if rows is None else rows
        return np.stack(
            [(view.probs[picked] / class_thresholds(view.probs, self.y)).argmax(axis=1) for view in self.views.values()]
        )

    def minority(self) -> int | None:
        """The smaller of two classes of unequal size; None with more classes or two of one size."""
        counts = np.bincount(self.y, minlength=len(self.classes))
        return int(counts.argmin()) if len(counts) == 2 and counts[0] != counts[1] else None

    def scores(self) -> np.ndarray:
        """Each row's label-error score: 1 - cleanlab's normalized-margin label quality."""
        from cleanlab.rank import get_label_quality_scores

        return 1 - get_label_quality_scores(self.y, self.probs, method="normalized_margin")


def view_weights(views: dict[str, Views], y: np.ndarray) -> dict[str, float]:
    """Inverse squared out-of-fold error rate on the given labels, normalised to sum to 1.

    The exponent was chosen on held-out data (CLINC150 with 8% flips, 2,000 IMDB reviews with 5%
    flips), against plain averaging and inverse error.
    """
    errors = {name: float(np.mean(view.probs.argmax(axis=1) != y)) for name, view in views.items()}
    raw = {name: 1 / (error + ERROR_FLOOR) ** 2 for name, error in errors.items()}
    total = sum(raw.values())
    return {name: weight / total for name, weight in raw.items()}


def ensemble_probabilities(data: Dataset, params: LabelErrorParams, ctx: ToolContext) -> Ensemble:
    """The classification pipeline up to the probabilities (public so benchmarks can score every row)."""
    labels = data.labels()
    keep = (~missing_labels(labels)).to_numpy()  # unlabelled rows: neither learnt from nor a class to propose
    _check_kinds(labels, data.roles.label or "")
    _check_classes(labels[keep], params.folds, data.roles.label or "")
    classes = sorted(labels[keep].unique(), key=str)
    index = {c: i for i, c in enumerate(classes)}
    y = labels[keep].map(index).to_numpy()
    subset = data.with_frame(data.frame[keep])
    embedder = text_embedder(params.embedding, len(subset), ctx) if data.roles.text else None
    views = build_views(subset, y, len(classes), params.folds, ctx, embedder=embedder)
    weights = view_weights(views, y)
    mixed = np.zeros((len(y), len(classes)), dtype=np.float32)
    for name, view in views.items():  # one n x classes temporary at a time
        mixed += np.float32(weights[name]) * view.probs
    probs = class_calibrated(mixed, y)
    return Ensemble(
        rows=subset.row_ids,
        classes=classes,
        y=y,
        probs=probs,
        views=views,
        weights=weights,
        embedder=embedder.name if embedder else None,
    )


def text_embedder(choice: str, texts: int, ctx: ToolContext):
    """The embedder for `texts` texts under the `embedding` parameter (see STATIC_FROM_TEXTS)."""
    if choice == "static" or (choice == "auto" and texts > STATIC_FROM_TEXTS and ctx.embedder_spec == "minilm"):
        return ctx.embedder_named("static")
    return ctx.embedder


def class_thresholds(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each class's mean probability over the rows labelled with it (confident learning's per-class threshold;
    1 for a class no row has), floored above zero, in the probabilities' dtype."""
    given = probs[np.arange(len(y)), y].astype(np.float64)
    counts = np.bincount(y, minlength=probs.shape[1])
    means = np.where(counts > 0, np.bincount(y, weights=given, minlength=probs.shape[1]) / np.maximum(counts, 1), 1.0)
    return np.clip(means, 1e-6, None).astype(probs.dtype)


def class_calibrated(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each class's probability divided by its per-class threshold, renormalised. Models trained on imbalanced
    labels give a minority class less probability even on its own rows; without this, a 13%-spam set has its odd
    spam flagged as ham and its mislabelled spam missed."""
    scaled = probs / class_thresholds(probs, y)
    scaled /= scaled.sum(axis=1, keepdims=True)
    return scaled


def flag_rows(ensemble: Ensemble, params: LabelErrorParams) -> np.ndarray:
    """Boolean mask of the rows whose label is flagged, by the chosen rule."""
    from cleanlab.count import num_label_issues
    from cleanlab.filter import find_label_issues

    y, probs = ensemble.y, ensemble.probs
    if params.rule == "cleanlab":
        return np.asarray(find_label_issues(y, probs, filter_by="prune_by_noise_rate"), dtype=bool)
    ratio = params.ratio or (BINARY_RATIO if len(ensemble.classes) == 2 else MULTICLASS_RATIO)
    rows = np.arange(len(y))
    given = probs[rows, y]
    top = probs.max(axis=1)
    # with many classes, a low given label is not enough: another class must claim the row
    flagged = (given < ratio * top) & (top >= MIN_CLAIM)
    if params.rule == "estimate":
        # the ratio rule alone flags too few rows where noise is heavy (the models learn some of it): the rows another
        # class leads most clearly, as many as cleanlab's calibrated count of label errors, are flagged too where
        # most views vote for that class (the count also holds rows the models merely confuse)
        second = np.partition(probs, -2, axis=1)[:, -2]
        margin = given - np.where(given >= top, second, top)  # given label against the best other class
        count = int(num_label_issues(y, probs, estimation_method="off_diagonal_calibrated"))
        clearest = np.argsort(margin, kind="stable")[:count]
        clearest = clearest[margin[clearest] < 0]  # another class leads: it is the top class
        leader = probs[clearest].argmax(axis=1)
        votes = (ensemble.votes(clearest) == leader).sum(axis=0)
        flagged[clearest[2 * votes > len(ensemble.views)]] = True
    if len(ensemble.classes) == 2:
        flagged &= ~_minority_in_doubt(ensemble)
    return flagged


def _minority_in_doubt(ensemble: Ensemble) -> np.ndarray:
    """Rows of the smaller of two classes that are not plainly of the larger one: not every view puts them there, or
    the ensemble is less sure of it than of most of the larger class's own rows. Real spam often reads like ham (a
    joke, an advert without the usual spam words); a label is not wrong for being unusual (benchmarks/label_tune.py)."""
    minority = ensemble.minority()
    if minority is None:
        return np.zeros(len(ensemble.y), bool)
    majority = 1 - minority
    typical = np.quantile(ensemble.probs[ensemble.y == majority, majority], TYPICAL_QUANTILE)
    rows = np.flatnonzero(ensemble.y == minority)
    doubt = np.zeros(len(ensemble.y), bool)
    doubt[rows] = ~(ensemble.votes(rows) == majority).all(axis=0) | (ensemble.probs[rows, majority] < typical)
    return doubt


def overlapping_pairs(ensemble: Ensemble, flagged: np.ndarray) -> dict[frozenset[int], float]:
    """Class pairs that the data itself mixes: {pair: share of the pair's rows, not flagged, that give the other class
    of the pair OVERLAP_SHARE or more}. Two-way by definition: one-way confusion is what a systematic labelling
    error looks like."""
    k = len(ensemble.classes)
    if k < 3:
        return {}
    y, probs = ensemble.y, ensemble.probs
    rows = np.flatnonzero(~flagged)
    others = probs[rows].copy()
    others[np.arange(len(rows)), y[rows]] = -1
    other = others.argmax(axis=1)
    split = others[np.arange(len(rows)), other] >= OVERLAP_SHARE
    mixing = np.zeros((k, k), dtype=np.int64)
    np.add.at(mixing, (y[rows][split], other[split]), 1)
    sizes = np.bincount(y, minlength=k)
    pairs = {}
    for a, b in zip(*np.nonzero(np.triu(np.minimum(mixing, mixing.T) >= OVERLAP_ROWS, k=1)), strict=True):
        rate = (mixing[a, b] + mixing[b, a]) / (sizes[a] + sizes[b])
        if rate >= OVERLAP_RATE:
            pairs[frozenset((int(a), int(b)))] = float(rate)
    return pairs


def _classification(data: Dataset, params: LabelErrorParams, ctx: ToolContext) -> tuple[list[Finding], dict]:
    ensemble = ensemble_probabilities(data, params, ctx)
    classes, y, probs, views = ensemble.classes, ensemble.y, ensemble.probs, ensemble.views
    scores = ensemble.scores()
    flagged = flag_rows(ensemble, params)
    given = probs[np.arange(len(y)), y]
    row_ids = ensemble.rows
    names = [plain(c) for c in classes]  # JSON-friendly class values, computed once
    row_labels = [names[i] for i in y]
    neighbour_view = views.get("knn") or next(iter(views.values()))
    default_relabel = BINARY_RELABEL_CONFIDENCE if len(classes) == 2 else RELABEL_CONFIDENCE
    relabel_at = default_relabel if params.relabel_confidence is None else params.relabel_confidence
    # code -> name where a column names the label (label + label_name)
    label_name = class_names(data.frame, data.roles.label or "", data.roles.text)
    overlaps = overlapping_pairs(ensemble, flagged)
    minority = ensemble.minority()
    # a minority row is relabelled only where it reads as the majority as plainly as the majority's median row does
    plainly_majority = float(np.median(probs[y == 1 - minority, 1 - minority])) if minority is not None else 0.0

    def shown(value: object) -> str:
        return f"{label_name[str(value)]!r} ({value})" if str(value) in label_name else repr(value)

    findings = []
    flagged_rows = np.flatnonzero(flagged)
    votes = ensemble.votes(flagged_rows)
    for position, row in enumerate(flagged_rows):
        order = np.argsort(-probs[row])
        suggested = int(order[0]) if order[0] != y[row] else int(order[1])
        confidence = float(probs[row, suggested])
        top = [ClassProbability(label=names[i], probability=round(float(probs[row, i]), 4)) for i in order[:3]]
        evidence = Evidence(
            given_label=names[y[row]],
            suggested_label=names[suggested],
            suggested_confidence=round(confidence, 4),
            top_classes=top,
            neighbours=_neighbour_evidence(neighbour_view, row, row_ids, row_labels),
            method="+".join(views) + (f" on {ensemble.embedder}" if ensemble.embedder else ""),
            view_votes={view: names[int(votes[v, position])] for v, view in enumerate(views)},
        )
        if label_name:
            evidence.given_label_name = label_name.get(str(names[y[row]]))
            evidence.suggested_label_name = label_name.get(str(names[suggested]))
        overlap = overlaps.get(frozenset((int(y[row]), suggested)))
        message = (
            f"labelled {shown(names[y[row]])} but the models give it {given[row]:.0%}; "
            f"{shown(names[suggested])} gets {confidence:.0%}"
        )
        if overlap is not None:  # the data mixes these two classes: a question for the person, never a relabel
            evidence.classes_overlap = (
                f"{shown(names[y[row]])} and {shown(names[suggested])} overlap in this data: {overlap:.1%} of "
                f"their rows read as both"
            )
            message += f"; these two classes overlap in this data ({overlap:.1%} of their rows)"
        # an unusual row of the smaller of two classes (an odd spam) may be right: a person decides, not the tool,
        # unless it reads as the larger class as plainly as that class's median row
        odd_minority = int(y[row]) == minority and confidence < plainly_majority
        relabel = confidence >= relabel_at and overlap is None and not odd_minority
        action = Action(type="relabel", new_label=names[suggested]) if relabel else Action(type="flag")
        findings.append(
            Finding(
                row_id=row_ids[row],
                issue="label_error",
                score=round(float(scores[row]), 4),
                action=action,
                evidence=evidence,
                message=message,
            )
        )
    report = {
        "task": "multiclass",
        "classes": len(classes),
        "views": list(views),
        "folds": fold_count(len(y), params.folds),  # fewer than asked on large data (fold_count)
        "embedder": ensemble.embedder,
        "view_weights": {name: round(weight, 4) for name, weight in ensemble.weights.items()},
        "rows_scored": len(y),
        "flagged": len(findings),
        "rule": params.rule,
        "overlapping_classes": [
            {"classes": sorted((names[i] for i in pair), key=str), "rate": round(rate, 4)}
            for pair, rate in sorted(overlaps.items(), key=lambda item: -item[1])
        ],
    }
    return findings, report


def _multilabel(data: Dataset, params: LabelErrorParams, ctx: ToolContext) -> tuple[list[Finding], dict]:
    from cleanlab.multilabel_classification.filter import find_label_issues

    labels = data.labels().map(lambda v: [str(x) for x in (v.tolist() if hasattr(v, "tolist") else v)])
    classes = sorted({c for row in labels for c in row})
    index = {c: i for i, c in enumerate(classes)}
    targets = np.zeros((len(labels), len(classes)), dtype=int)
    for r, row in enumerate(labels):
        targets[r, [index[c] for c in row]] = 1
    views = build_views(data, targets, len(classes), params.folds, ctx, multilabel=True)
    probs = np.mean([v.probs for v in views.values()], axis=0)
    issues = find_label_issues(
        [[index[c] for c in row] for row in labels], probs, return_indices_ranked_by="self_confidence"
    )
    row_ids = data.row_ids
    findings = []
    for rank, row in enumerate(issues):
        suggested = [classes[i] for i in np.flatnonzero(probs[row] >= 0.5)]
        findings.append(
            Finding(
                row_id=row_ids[row],
                issue="label_error",
                score=round(1 - rank / max(len(issues), 1), 4),
                action=Action(type="flag"),
                evidence=Evidence(
                    given_label="|".join(labels.iloc[row]), suggested_label="|".join(suggested), method="+".join(views)
                ),
                message=f"labels {labels.iloc[row]} look wrong; the models suggest {suggested}",
            )
        )
    report = {"task": "multilabel", "classes": len(classes), "views": list(views), "flagged": len(findings)}
    return findings, {**report, "embedder": ctx.embedder.name if data.roles.text else None}


def _regression(data: Dataset, params: LabelErrorParams, ctx: ToolContext) -> tuple[list[Finding], dict]:
    from cleanlab.regression.rank import get_label_quality_scores

    labels = data.labels().astype(float)
    keep = labels.notna().to_numpy()
    subset = data.with_frame(data.frame[keep])
    y = labels[keep].to_numpy()
    predictions = regression_predictions(subset, y, params.folds, ctx)
    quality = get_label_quality_scores(y, predictions)
    residual = np.abs(y - predictions)
    mad = np.median(np.abs(residual - np.median(residual))) or 1e-12
    flagged = np.flatnonzero(residual > np.median(residual) + 6 * mad)  # robust outliers of the residuals
    row_ids = subset.row_ids
    findings = [
        Finding(
            row_id=row_ids[r],
            issue="label_error",
            score=round(float(1 - quality[r]), 4),
            action=Action(type="flag"),
            evidence=Evidence(given_label=float(y[r]), suggested_label=round(float(predictions[r]), 6)),
            message=f"target {y[r]:.4g} is far from the out-of-fold prediction {predictions[r]:.4g}",
        )
        for r in flagged
    ]
    return findings, {
        "task": "regression",
        "flagged": len(findings),
        "embedder": ctx.embedder.name if data.roles.text else None,
    }


def _apply_judge(findings: list[Finding], data: Dataset, params: LabelErrorParams, ctx: ToolContext) -> int:
    """Let an LLM judge re-check the top candidates. Every verdict becomes evidence; one the judge is sure of
    (`judge_min_confidence`) also becomes half the score, and "the given label is right" makes the finding a flag."""
    if ctx.judge is None or params.judge_top == 0 or not findings:
        return 0
    top = sorted(findings, key=lambda f: -f.score)[: params.judge_top]
    texts = data.texts() if data.roles.text else data.frame[data.roles.features].astype(str).agg(", ".join, axis=1)
    questions = [
        LabelQuestion(  # names where a column gives them: "62" and "49" mean nothing to a model
            row_id=f.row_id,
            text=str(texts.loc[f.row_id]),
            given_label=str(getattr(f.evidence, "given_label_name", None) or f.evidence.given_label),
            suggested_label=str(getattr(f.evidence, "suggested_label_name", None) or f.evidence.suggested_label),
        )
        for f in top
    ]
    verdicts = {v.row_id: v for v in ctx.judge.judge_labels(questions)}
    for finding in top:
        verdict = verdicts.get(finding.row_id)
        if verdict is None:
            continue
        acts = verdict.verdict in ("given", "suggested") and verdict.confidence >= params.judge_min_confidence
        finding.evidence.judge = {**verdict.model_dump(), "acted": acts}
        if not acts:  # an unsure, split or weak verdict is evidence for the reviewer, not a change
            continue
        support = verdict.confidence if verdict.verdict == "suggested" else 1 - verdict.confidence
        finding.score = round(0.5 * finding.score + 0.5 * support, 4)
        if verdict.verdict == "given":
            finding.action = Action(type="flag")
    return len(top)


def run(data: Dataset, params: LabelErrorParams, ctx: ToolContext) -> ToolResult:
    started = time.perf_counter()
    data.require(["label"], SPEC.name)
    if not data.roles.text and not data.roles.features:
        raise UserInputError(
            "The label-errors tool found no usable features: the data has no text column and no feature "
            "columns. Pass --text COLUMN or --features COL,COL,..."
        )
    if not data.roles.text and not data.frame[data.roles.features].notna().to_numpy().any():
        raise UserInputError(
            f"The label-errors tool has nothing to learn from: the feature column(s) {', '.join(data.roles.features)} "
            f"are empty in every row. Name the right columns with --text or --features."
        )
    if data.roles.text and not data.roles.features and not data.texts().str.strip().any():
        raise UserInputError(
            f"The label-errors tool has nothing to learn from: the text column(s) {', '.join(data.roles.text)} are "
            f"empty in every row. Name the right column with --text, or pass --features."
        )
    task = _task(data.labels(), params.task)
    handler = {"multiclass": _classification, "multilabel": _multilabel, "regression": _regression}[task]
    findings, report = handler(data, params, ctx)
    report["judged"] = _apply_judge(findings, data, params, ctx)
    findings.sort(key=lambda f: -f.score)
    relabels = sum(f.action.type == "relabel" for f in findings)
    proposal = Proposal(
        tool=SPEC.name,
        tool_version=__version__,
        params=params.model_dump(),
        findings=findings,
        summary=f"{len(findings)} likely label errors ({relabels} with a confident suggested label) "
        f"among {len(data)} rows",
        models={"embedder": report["embedder"]} if report.get("embedder") else {},
    )
    return ToolResult(proposal=proposal, report=report, elapsed_s=time.perf_counter() - started)


SPEC = ToolSpec(
    name="label-errors",
    version=__version__,
    summary="Wrong labels: out-of-fold probabilities from an ensemble of views, scored with cleanlab.",
    issue_types=["label_error"],
    required_roles=["label"],
    params_model=LabelErrorParams,
    run=run,
    stage=2,
    unplanned=["embedding"],
    finds="label",
    evidence="labels",
    evidence_fields=[EvidenceField(name="classes_overlap", title="Classes that overlap in this data")],
    plan_hint=lambda profile, edits: PlanHint(reason=f"labels checked after {edits} edits to the rows"),
)
