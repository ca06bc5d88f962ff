"""Scores of one curated result against the task's ground truth: per-issue detection, collateral damage,
and the downstream effect on a fixed classifier."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from copilot.evaluation.builders import Truth
from curation_tools.registry import available_tools


class Detection(BaseModel):
    planted: int
    fixed: int
    changes: int
    correct_changes: int

    @property
    def precision(self) -> float | None:
        return self.correct_changes / self.changes if self.changes else None

    @property
    def recall(self) -> float | None:
        return self.fixed / self.planted if self.planted else None

    @property
    def f1(self) -> float | None:
        if not self.planted:
            return None
        p, r = self.precision or 0.0, self.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


class Scores(BaseModel):
    detection: dict[str, Detection]
    mean_f1: float | None
    changes: int
    clean_rows: int
    clean_changed: int
    collateral: float

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mean_f1": self.mean_f1,
            "changes": self.changes,
            "collateral": round(self.collateral, 4),
        }
        for name, d in self.detection.items():
            out[f"{name}_precision"] = d.precision
            out[f"{name}_recall"] = d.recall
        return out


def _correct(change: dict[str, Any], truth: Truth) -> bool:
    row = change["row_id"]
    if change["action"] == "drop":
        originals = set(truth.duplicates.values())
        return row in truth.duplicates or row in truth.leaks or row in truth.label_flips or row in originals
    if change["action"] == "relabel":
        return truth.label_flips.get(row) == str(change["new_value"])
    return True  # flags change nothing


def score(truth: Truth, raw: pd.DataFrame, curated: pd.DataFrame, changes: list[dict[str, Any]]) -> Scores:
    """`raw` and `curated` are indexed by row id with a `label` column; `changes` are the applied edits."""
    present = set(curated.index)
    label_now = curated["label"].astype(str)
    fixed = {
        "label": sum(r not in present or label_now[r] == right for r, right in truth.label_flips.items()),
        "duplicate": sum(c not in present or o not in present for c, o in truth.duplicates.items()),
        "leak": sum(r not in present for r in truth.leaks),
    }
    planted = {"label": len(truth.label_flips), "duplicate": len(truth.duplicates), "leak": len(truth.leaks)}
    real = [c for c in changes if c["action"] != "flag"]
    finds = {name: spec.finds for name, spec in available_tools().items()}
    detection = {}
    for issue in ("label", "duplicate", "leak"):
        mine = [c for c in real if finds.get(c["tool"]) == issue]
        detection[issue] = Detection(
            planted=planted[issue],
            fixed=fixed[issue],
            changes=len(mine),
            correct_changes=sum(_correct(c, truth) for c in mine),
        )
    f1s = [d.f1 for d in detection.values() if d.f1 is not None]
    involved = set(truth.planted_rows) | set(truth.duplicates.values())
    clean = [r for r in raw.index if r not in involved]
    raw_label = raw["label"].astype(str)
    changed = sum(r not in present or label_now[r] != raw_label[r] for r in clean)
    return Scores(
        detection=detection,
        mean_f1=float(np.mean(f1s)) if f1s else None,
        changes=len(real),
        clean_rows=len(clean),
        clean_changed=changed,
        collateral=changed / max(len(clean), 1),
    )


def downstream_accuracy(train: pd.DataFrame, test: pd.DataFrame, kind: str, seed: int = 0) -> float:
    """Test accuracy of a fixed classifier (TF-IDF or scaled features + logistic regression) trained on `train`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = train["label"].astype(str)
    if y.nunique() < 2:
        return 0.0
    if kind == "text":
        model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=2000))
        model.fit(train["text"].astype(str), y)
        predicted = model.predict(test["text"].astype(str))
    else:
        features = [c for c in test.columns if c != "label"]
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
        model.fit(train[features].astype(float), y)
        predicted = model.predict(test[features].astype(float))
    return float((predicted == test["label"].astype(str).to_numpy()).mean())
