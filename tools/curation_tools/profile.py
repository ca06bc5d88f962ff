"""Profile: per-column types and nulls, labels and imbalance, text lengths, duplicates, split overlap."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from curation_tools import __version__
from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset, Roles
from curation_tools.label_names import missing_labels, mixed_kinds
from curation_tools.roles import TextLayout, text_layout
from curation_tools.schema import Proposal, ToolResult, ToolSpec
from curation_tools.text import normal_form_hashes
from curation_tools.text_column import TextColumn


class ProfileParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error, not ignored

    top_labels: int = Field(20, ge=1, description="How many of the largest classes to list")


class ColumnProfile(BaseModel):
    name: str
    dtype: str
    role: str | None
    nulls: int
    n_unique: int


class LengthStats(BaseModel):
    chars_mean: float
    chars_min: int
    chars_median: float
    chars_p90: float
    chars_max: int
    words_mean: float
    empty: int


class LabelProfile(BaseModel):
    n_classes: int
    multi_label: bool
    counts: dict[str, int] = Field(description="largest classes first (top_labels of them)")
    smallest: dict[str, int]
    imbalance_ratio: float = Field(description="largest class count / smallest class count")
    unlabelled: int = Field(description="rows with no label: null, or empty text")
    mixed_kinds: dict[str, int] | None = Field(
        None, description="rows labelled with numbers and with names, where the column holds both"
    )


class DuplicateProfile(BaseModel):
    groups: int = Field(description="groups of rows whose normalised text is identical")
    redundant_rows: int = Field(description="rows beyond the first of each group")
    conflicting_label_groups: int = 0


class SplitProfile(BaseModel):
    counts: dict[str, int]
    overlap: dict[str, int] = Field(description="'a~b': distinct normalised texts found in both splits")


class DatasetProfile(BaseModel):
    n_rows: int
    n_columns: int
    roles: Roles
    text_layout: TextLayout | None = Field(None, description="plain, chat (message lists) or instruction (columns)")
    columns: list[ColumnProfile]
    text_length: LengthStats | None = None
    labels: LabelProfile | None = None
    duplicates: DuplicateProfile | None = None
    splits: SplitProfile | None = None

    def headline(self) -> str:
        parts = [f"{self.n_rows} rows, {self.n_columns} columns"]
        if self.labels:
            parts.append(f"{self.labels.n_classes} classes (imbalance {self.labels.imbalance_ratio:.1f}x)")
        if self.duplicates:
            parts.append(f"{self.duplicates.redundant_rows} exact-duplicate rows")
        if self.splits and any(self.splits.overlap.values()):
            parts.append(f"{sum(self.splits.overlap.values())} texts shared across splits")
        return ", ".join(parts)


def _role_of(column: str, roles: Roles) -> str | None:
    for role in ("id", "label", "split"):
        if getattr(roles, role) == column:
            return role
    if column in roles.text:
        return "text"
    return "feature" if column in roles.features else None


def _label_key(value: object) -> str:
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        return "|".join(sorted(map(str, list(value))))
    return str(value)


def _columns(frame: pd.DataFrame, roles: Roles) -> list[ColumnProfile]:
    out = []
    for col in frame.columns:
        series = frame[col]
        try:
            unique = int(series.nunique(dropna=True))
        except TypeError:  # unhashable cells (lists, dicts)
            unique = int(series.map(_label_key).nunique(dropna=True))
        out.append(
            ColumnProfile(
                name=col,
                dtype=str(series.dtype),
                role=_role_of(col, roles),
                nulls=int(series.isna().sum()),
                n_unique=unique,
            )
        )
    return out


def _lengths(texts: pd.Series, column: TextColumn) -> LengthStats:
    chars = texts.str.len().to_numpy()
    words = column.word_counts()
    return LengthStats(
        chars_mean=float(chars.mean()),
        chars_min=int(chars.min()),
        chars_median=float(np.median(chars)),
        chars_p90=float(np.percentile(chars, 90)),
        chars_max=int(chars.max()),
        words_mean=float(words.mean()),
        empty=int((texts.str.strip() == "").sum()),
    )


def _labels(labels: pd.Series, top: int) -> LabelProfile:
    multi = bool(labels.dropna().map(lambda v: isinstance(v, list | tuple) or hasattr(v, "tolist")).any())
    missing = missing_labels(labels)
    present = labels[~missing]
    mixed = mixed_kinds(labels)
    keys = present.explode().map(str) if multi else present.map(_label_key)
    counts = keys.value_counts()
    return LabelProfile(
        n_classes=len(counts),
        multi_label=multi,
        counts={str(k): int(v) for k, v in counts.head(top).items()},
        smallest={str(k): int(v) for k, v in counts.tail(min(5, len(counts))).items()},
        imbalance_ratio=float(counts.max() / counts.min()) if len(counts) else 0.0,
        unlabelled=int(missing.sum()),
        mixed_kinds={"numbers": sum(mixed[0].values()), "names": sum(mixed[1].values())} if mixed else None,
    )


def _duplicates(keys: pd.Series, labels: pd.Series | None) -> DuplicateProfile:
    sizes = keys.value_counts()
    groups = sizes[sizes > 1]
    conflicting = 0
    if labels is not None and len(groups):
        in_groups = keys.isin(groups.index)
        per_group = pd.DataFrame({"key": keys[in_groups], "label": labels[in_groups].map(_label_key)})
        conflicting = int((per_group.groupby("key")["label"].nunique() > 1).sum())
    return DuplicateProfile(
        groups=len(groups), redundant_rows=int((groups - 1).sum()), conflicting_label_groups=conflicting
    )


def _splits(keys: pd.Series, splits: pd.Series) -> SplitProfile:
    names = splits.astype(str)
    per_split = {name: set(keys[names == name]) for name in sorted(names.unique())}
    overlap = {f"{a}~{b}": len(per_split[a] & per_split[b]) for a, b in itertools.combinations(per_split, 2)}
    return SplitProfile(counts={k: int(v) for k, v in names.value_counts().items()}, overlap=overlap)


def profile_dataset(data: Dataset, top_labels: int = 20) -> DatasetProfile:
    frame, roles = data.frame, data.roles
    result = DatasetProfile(n_rows=len(frame), n_columns=frame.shape[1], roles=roles, columns=_columns(frame, roles))
    labels = data.labels() if roles.label else None
    if labels is not None:
        result.labels = _labels(labels, top_labels)
    if roles.text:
        result.text_layout = text_layout(frame, roles.text)
        texts = data.texts()
        column = TextColumn.of(texts)
        keys = pd.Series(normal_form_hashes(column), index=texts.index)
        result.text_length = _lengths(texts, column)
        result.duplicates = _duplicates(keys, labels)
        if roles.split:
            result.splits = _splits(keys, frame[roles.split])
    return result


def run(data: Dataset, params: ProfileParams, ctx: ToolContext) -> ToolResult:
    started = time.perf_counter()
    profile = profile_dataset(data, params.top_labels)
    proposal = Proposal(
        tool=SPEC.name, tool_version=__version__, params=params.model_dump(), summary=profile.headline()
    )
    return ToolResult(
        proposal=proposal, report=profile.model_dump(mode="json"), elapsed_s=time.perf_counter() - started
    )


SPEC = ToolSpec(
    name="profile",
    version=__version__,
    summary="Column types and nulls, label distribution and imbalance, text lengths, exact duplicates, split overlap.",
    issue_types=[],
    required_roles=[],
    output="report",
    params_model=ProfileParams,
    run=run,
    role="report",
    stage=0,
)
