"""Out-of-fold predictions from several views of a dataset, for the label-error tool."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset
from curation_tools.neighbours import nearest

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

# scikit-learn is imported inside the functions that fit models: every `curate` command loads the
# tool registry, and importing sklearn would add most of a second to each of them.

KNN_K = 10
TFIDF_FEATURES = 100_000  # bounds the TF-IDF view on long documents (bigrams explode otherwise)
MAX_ITER = 500


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
    seed: int,
    ctx: ToolContext,
    stage: str,
    multilabel: bool = False,
) -> np.ndarray:
    from sklearn.model_selection import KFold, StratifiedKFold
    from threadpoolctl import threadpool_limits

    probs = np.zeros((len(y), n_classes))
    splitter = (
        KFold(folds, shuffle=True, random_state=seed)
        if multilabel
        else StratifiedKFold(folds, shuffle=True, random_state=seed)
    )
    for fold, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y if not multilabel else None)):
        ctx.check_cancelled()
        with threadpool_limits(ctx.threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter on tiny folds
            model = make().fit(x[train], y[train])
            if multilabel:
                probs[test] = model.predict_proba(x[test])
            else:
                probs[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
        ctx.progress(stage, fold + 1, folds)
    return probs


def _knn_votes(vectors: np.ndarray, y: np.ndarray, n_classes: int, multilabel: bool) -> Views:
    """Leave-one-out similarity-weighted votes of each row's nearest neighbours (out of sample by design)."""
    idx, sim = nearest(vectors, KNN_K)
    weights = np.clip(sim, 0, None)
    if multilabel:
        probs = (weights[..., None] * y[idx]).sum(axis=1) / np.clip(weights.sum(axis=1, keepdims=True), 1e-9, None)
        return Views(np.clip(probs, 0.01, 0.99), (idx, sim))
    probs = np.full((len(y), n_classes), 0.1 / n_classes)
    np.add.at(probs, (np.repeat(np.arange(len(y)), idx.shape[1]), y[idx].ravel()), weights.ravel())
    return Views(probs / probs.sum(axis=1, keepdims=True), (idx, sim))


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
    data: Dataset, y: np.ndarray, n_classes: int, folds: int, ctx: ToolContext, multilabel: bool = False
) -> dict[str, Views]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    seed = ctx.seed

    def linear(c: float) -> Callable[[], BaseEstimator]:
        if multilabel:
            return lambda: OneVsRestClassifier(LogisticRegression(C=c, max_iter=MAX_ITER))
        return lambda: LogisticRegression(C=c, max_iter=MAX_ITER)

    views: dict[str, Views] = {}
    if data.roles.text:
        texts = data.texts().tolist()
        vectors = np.asarray(ctx.embedder.embed(texts), dtype=np.float64)
        knn = _knn_votes(vectors.astype(np.float32), y, n_classes, multilabel)
        views["embedding-lr"] = Views(
            _oof(linear(1.0), vectors, y, n_classes, folds, seed, ctx, "embed-lr", multilabel), knn.neighbours
        )
        tfidf = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=TFIDF_FEATURES
        ).fit_transform(texts)
        views["tfidf-lr"] = Views(
            _oof(linear(10.0), tfidf, y, n_classes, folds, seed, ctx, "tfidf-lr", multilabel), knn.neighbours
        )
        views["knn"] = knn
        return views
    matrix = _tabular_matrix(data)
    knn = _knn_votes(_unit(matrix).astype(np.float32), y, n_classes, multilabel)
    views["linear"] = Views(
        _oof(linear(1.0), matrix, y, n_classes, folds, seed, ctx, "linear", multilabel), knn.neighbours
    )
    if not multilabel:
        boosted = lambda: HistGradientBoostingClassifier(random_state=seed)  # noqa: E731
        views["gbm"] = Views(_oof(boosted, matrix, y, n_classes, folds, seed, ctx, "gbm"), knn.neighbours)
    views["knn"] = knn
    return views


def regression_predictions(data: Dataset, y: np.ndarray, folds: int, ctx: ToolContext) -> np.ndarray:
    """Out-of-fold predictions: ridge on embeddings for text, gradient boosting for tabular features."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold
    from threadpoolctl import threadpool_limits

    if data.roles.text:
        x = np.asarray(ctx.embedder.embed(data.texts().tolist()), dtype=np.float64)
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
