"""Out-of-fold predictions from several views of a dataset, for the label-error tool."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset
from curation_tools.neighbours import clustered_nearest, nearest
from curation_tools.text import word_windows

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

    from curation_tools.embed import Embedder

# scikit-learn is imported inside the functions that fit models: every `curate` command loads the
# tool registry, and importing sklearn would add most of a second to each of them.

KNN_K = 10
TFIDF_FEATURES = 100_000  # bounds the TF-IDF view on long documents (bigrams explode otherwise)
TFIDF_PARAMETERS = 4_000_000
"""features x classes of the TF-IDF view's model at most: L-BFGS keeps 20 copies of the coefficients. On 50,000
short texts with 227 classes, 72,089 features took 206 s and 5.2 GB to fit, 17,600 took 49 s and 1.7 GB, with
the same held-out accuracy (0.970 and 0.971; issue 23)"""
MAX_ITER = 500
FIT_ROWS = 50_000
"""training rows per fold at most; above it a fold fits on a seeded random sample of its training rows (every
row is still predicted out of fold). Logistic regression on TF-IDF of 50,000 short texts and 227 classes takes
about 2 minutes on 2 cores, and the fit grows faster than the rows (issue 23)"""
PREDICT_ROWS = 100_000  # test rows per predict_proba call: bounds its float64 output
EXACT_KNN_ROWS = 50_000
"""above this, the kNN view searches within k-means clusters (all pairs of 1M rows: hours on 2 cores)"""
ROWS_PER_CLUSTER = 2_000
WINDOW_WORDS = 150
"""a long text is embedded as the mean of its windows of this many words (about the 256 tokens MiniLM reads): the
first window of a 20 Newsgroups post is mostly mail headers, and a review's verdict is often at its end"""


@dataclass
class Views:
    probs: np.ndarray
    """(rows, classes) out-of-sample probabilities."""
    neighbours: tuple[np.ndarray, np.ndarray]
    """(indices, similarities) of each row's nearest other rows in this view's space."""


def _oof(
    make: Callable[[], BaseEstimator],
    x,
    y: np.ndarray,
    n_classes: int,
    folds: int,
    ctx: ToolContext,
    stage: str,
    multilabel: bool = False,
) -> np.ndarray:
    """Out-of-fold probabilities (float32), each fold's fit one task on the engine."""
    from sklearn.model_selection import KFold, StratifiedKFold

    probs = np.zeros((len(y), n_classes), dtype=np.float32)
    folds = fold_count(len(y), folds)
    splitter = (
        KFold(folds, shuffle=True, random_state=ctx.seed)
        if multilabel
        else StratifiedKFold(folds, shuffle=True, random_state=ctx.seed)
    )
    splits = [
        (_fit_sample(train, ctx.seed, fold), test)
        for fold, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y if not multilabel else None))
    ]
    engine = ctx.engine
    shared_x, shared_y = engine.share(x), engine.share(y)
    ctx.progress(stage, 0, folds)
    for fold, (proba, classes) in engine.map(
        _fit_fold, splits, make, shared_x, shared_y, engine.task_threads, stage=stage, progress=ctx.progress
    ):
        ctx.check_cancelled()
        test = splits[fold][1]
        if multilabel:
            probs[test] = proba
        else:
            probs[np.ix_(test, classes)] = proba
    return probs


def fold_count(rows: int, folds: int) -> int:
    """The folds to fit: the fewest (two or more, `folds` at most) whose training rows still hold a full FIT_ROWS
    sample. Above that size every fold fits the same number of rows whatever the count, so more folds only add fits
    (at 1M rows, 5 folds took 148 s of the TF-IDF view where 2 take one round of the two cores)."""
    for count in range(2, folds):
        if rows - math.ceil(rows / count) >= FIT_ROWS:  # the training rows beside the largest test fold
            return count
    return folds


def _fit_sample(train: np.ndarray, seed: int, fold: int) -> np.ndarray:
    """The fold's training rows, or a seeded random FIT_ROWS of them on large data."""
    if len(train) <= FIT_ROWS:
        return train
    return np.sort(np.random.default_rng([seed, fold]).choice(train, FIT_ROWS, replace=False))


def _fit_fold(
    split: tuple[np.ndarray, np.ndarray], make: Callable[[], BaseEstimator], x, y: np.ndarray, threads: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """One fold: fit on its training rows, predict its test rows a block at a time. The unit of work an engine
    runs; returns the test rows' probabilities and the classes the model saw."""
    from threadpoolctl import threadpool_limits

    train, test = split
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on tiny folds
        model = make().fit(x[train], y[train])
        blocks = [
            model.predict_proba(x[test[start : start + PREDICT_ROWS]]).astype(np.float32)
            for start in range(0, len(test), PREDICT_ROWS)
        ]
    return np.concatenate(blocks), getattr(model, "classes_", None)


def _knn_votes(vectors: np.ndarray, y: np.ndarray, n_classes: int, multilabel: bool, ctx: ToolContext) -> Views:
    """Leave-one-out similarity-weighted votes of each row's nearest neighbours (out of sample by design); above
    EXACT_KNN_ROWS the neighbours are searched within k-means clusters."""
    if len(vectors) > EXACT_KNN_ROWS:
        idx, sim = clustered_nearest(vectors, KNN_K, ROWS_PER_CLUSTER, ctx.seed, ctx.progress)
    else:
        idx, sim = nearest(vectors, KNN_K)
    weights = np.clip(sim, 0, None)
    if multilabel:
        probs = (weights[..., None] * y[idx]).sum(axis=1) / np.clip(weights.sum(axis=1, keepdims=True), 1e-9, None)
        return Views(np.clip(probs, 0.01, 0.99).astype(np.float32), (idx, sim))
    probs = np.full((len(y), n_classes), 0.1 / n_classes, dtype=np.float32)
    np.add.at(probs, (np.repeat(np.arange(len(y)), idx.shape[1]), y[idx].ravel()), weights.ravel())
    probs /= probs.sum(axis=1, keepdims=True)
    return Views(probs, (idx, sim))


def whole_text_vectors(texts: list[str], embedder: Embedder) -> np.ndarray:
    """One unit vector per text: its embedding, or for a text over WINDOW_WORDS words the mean of its windows'."""
    windows, owners = word_windows(texts, WINDOW_WORDS, WINDOW_WORDS)
    vectors = np.asarray(embedder.embed(windows), dtype=np.float32)
    if len(windows) == len(texts):
        return vectors
    sums = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, np.asarray(owners), vectors)
    return _unit(sums)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)


def _tabular_matrix(data: Dataset) -> np.ndarray:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = data.frame[data.roles.features]
    numeric = [c for c in frame.columns if frame[c].dtype.kind in "biuf"]
    categorical = [c for c in frame.columns if c not in numeric]
    transform = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore", sparse_output=False)
                ),
                categorical,
            ),
        ]
    )
    return np.asarray(transform.fit_transform(frame.astype({c: str for c in categorical})), dtype=np.float64)


def build_views(
    data: Dataset,
    y: np.ndarray,
    n_classes: int,
    folds: int,
    ctx: ToolContext,
    multilabel: bool = False,
    embedder: Embedder | None = None,
) -> dict[str, Views]:
    """The views' out-of-fold probabilities; text is embedded by `embedder` (the context's when None)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    def linear(c: float) -> Callable[[], BaseEstimator]:
        if multilabel:
            return lambda: OneVsRestClassifier(LogisticRegression(C=c, max_iter=MAX_ITER))
        return lambda: LogisticRegression(C=c, max_iter=MAX_ITER)

    views: dict[str, Views] = {}
    if data.roles.text:
        texts = data.texts().tolist()
        vectors = whole_text_vectors(texts, embedder or ctx.embedder)
        knn = _knn_votes(vectors, y, n_classes, multilabel, ctx)
        views["embedding-lr"] = Views(
            _oof(linear(1.0), vectors, y, n_classes, folds, ctx, "embed-lr", multilabel), knn.neighbours
        )
        del vectors  # the views below need the texts only
        features = min(TFIDF_FEATURES, TFIDF_PARAMETERS // max(n_classes, 1))
        tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=features).fit_transform(
            texts
        )
        views["tfidf-lr"] = Views(
            _oof(linear(10.0), tfidf, y, n_classes, folds, ctx, "tfidf-lr", multilabel), knn.neighbours
        )
        views["knn"] = knn
        return views
    matrix = _tabular_matrix(data)
    knn = _knn_votes(_unit(matrix).astype(np.float32), y, n_classes, multilabel, ctx)
    views["linear"] = Views(_oof(linear(1.0), matrix, y, n_classes, folds, ctx, "linear", multilabel), knn.neighbours)
    if not multilabel:
        boosted = lambda: HistGradientBoostingClassifier(random_state=ctx.seed)  # noqa: E731
        views["gbm"] = Views(_oof(boosted, matrix, y, n_classes, folds, ctx, "gbm"), knn.neighbours)
    views["knn"] = knn
    return views


def regression_predictions(data: Dataset, y: np.ndarray, folds: int, ctx: ToolContext) -> np.ndarray:
    """Out-of-fold predictions: ridge on embeddings for text, gradient boosting for tabular features."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold
    from threadpoolctl import threadpool_limits

    if data.roles.text:
        x = whole_text_vectors(data.texts().tolist(), ctx.embedder)
        make: Callable[[], BaseEstimator] = lambda: Ridge(alpha=1.0)  # noqa: E731
    else:
        x = _tabular_matrix(data)
        make = lambda: HistGradientBoostingRegressor(random_state=ctx.seed)  # noqa: E731
    predictions = np.zeros(len(y))
    for fold, (train, test) in enumerate(KFold(folds, shuffle=True, random_state=ctx.seed).split(x)):
        with threadpool_limits(ctx.threads):
            predictions[test] = make().fit(x[train], y[train]).predict(x[test])
        ctx.progress("regress", fold + 1, folds)
    return predictions
