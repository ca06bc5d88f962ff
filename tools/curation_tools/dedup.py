"""Duplicates: exact (after normalisation), near (MinHash + LSH, verified) and semantic (embeddings).

Rows are linked by edges from each requested stage, clusters come from union-find, and one member of
each cluster is kept (--keep). Findings: one per row to drop. With a split column (or a reference
file), a train row that duplicates a test/reference row is a `split_leak` (the test side is never
dropped); a cluster whose members disagree on the label is reported as `conflicting_labels` for review
instead of being resolved by dropping.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from curation_tools import __version__
from curation_tools.collector import many_objects
from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset
from curation_tools.errors import UserInputError
from curation_tools.io import read_table
from curation_tools.near_dup import near_edges
from curation_tools.neighbours import similar_pairs
from curation_tools.schema import Action, Evidence, Finding, PlanHint, Proposal, ToolResult, ToolSpec
from curation_tools.text import normal_form_hashes, normalize, word_opcodes
from curation_tools.text_column import take
from curation_tools.word_edits import one_word_apart

Method = Literal["exact", "near", "semantic"]
ISSUE = {"exact": "exact_duplicate", "near": "near_duplicate", "semantic": "semantic_duplicate"}
PLAUSIBLE_AGREEMENT = 0.2  # estimated Jaccard below which an LSH candidate is not worth verifying
ROWS_PER_CLUSTER = 2_000  # semantic stage above semantic_exact_max_rows: k-means clusters of about this size
TEST_SPLITS = {"test", "eval", "valid", "validation", "dev", "val", "holdout"}


class DedupParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error, not ignored

    method: list[Method] = Field(["exact", "near"], description="stages: exact, near, semantic")
    keep: Literal["first", "longest", "shortest"] = Field("first", description="which cluster member stays")
    near_threshold: float = Field(
        0.76, gt=0, le=1, description="verified similarity (max of Jaccard and containment) for near duplicates"
    )
    shingle_size: int = Field(5, ge=2, le=20, description="character n-gram size for near duplicates")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations")
    bands: int = Field(
        42, ge=1, le=256, description="LSH bands (more bands = lower candidate threshold; at most num_perm)"
    )
    one_word_apart: bool = Field(
        True, description="near stage: short texts (under 15 words) one inserted word apart, same label, are linked"
    )
    min_contained: int = Field(
        80, ge=1, le=10_000, description="shingles the smaller text needs before containment counts (truncated copies)"
    )
    workers: int = Field(
        0, ge=0, le=64, description="processes hashing the near stage from 100,000 rows (0: one per CPU core)"
    )
    semantic_threshold: float = Field(0.95, gt=0, le=1, description="cosine similarity for semantic duplicates")
    semantic_exact_max_rows: int = Field(
        50_000, ge=0, description="above this many rows, semantic neighbours are searched within k-means clusters"
    )
    reference: str | None = Field(None, description="another data file (e.g. the test set): its copies are split leaks")
    reference_text: str | None = Field(None, description="text column of the reference file (default: inferred)")

    @model_validator(mode="after")
    def _bands_fit(self) -> DedupParams:
        if self.bands > self.num_perm:
            raise ValueError(f"bands ({self.bands}) cannot exceed num_perm ({self.num_perm}): each band needs a row")
        return self


class _Graph:
    """Links between rows, each with a score and the method that found it; clusters are the connected components."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._links: list[tuple[np.ndarray, np.ndarray, str]] = []

    def link(self, pairs: np.ndarray, scores: np.ndarray, method: str) -> None:
        """Link each pair of rows ((k, 2) positions) with its score."""
        if len(pairs):
            self._links.append((np.asarray(pairs, dtype=np.int64).reshape(-1, 2), np.asarray(scores, float), method))

    def best(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Each linked pair (i < j) once, with its highest score and that link's method (ties: the first linked)."""
        if not self._links:
            return np.zeros((0, 2), dtype=np.int64), np.zeros(0), []
        pairs = np.sort(np.concatenate([p for p, _, _ in self._links]), axis=1)
        scores = np.concatenate([s for _, s, _ in self._links])
        methods = np.concatenate([np.full(len(p), n) for n, (p, _, _) in enumerate(self._links)])
        order = np.lexsort((np.arange(len(scores)), -scores, pairs[:, 1], pairs[:, 0]))
        pairs, scores, methods = pairs[order], scores[order], methods[order]
        first = np.ones(len(pairs), dtype=bool)
        first[1:] = (pairs[1:] != pairs[:-1]).any(axis=1)
        names = [self._links[m][2] for m in methods[first]]
        return pairs[first], scores[first], names

    def clusters(self) -> list[list[int]]:
        """Components of two or more rows, each sorted, in order of their first row."""
        from scipy.sparse import coo_array
        from scipy.sparse.csgraph import connected_components

        pairs, _, _ = self.best()
        if not len(pairs):
            return []
        adjacency = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(self.n, self.n))
        _, component = connected_components(adjacency, directed=False)
        order = np.argsort(component, kind="stable")  # rows ascending within each component
        bounds = np.flatnonzero(np.diff(component[order])) + 1
        groups = [g for g in np.split(order, bounds) if len(g) > 1]
        return sorted((g.tolist() for g in groups), key=lambda g: g[0])

    def ties_to(self, keeper: int, adjacency: dict[int, list[tuple[int, float, str]]]) -> dict[int, tuple[float, str]]:
        """Each cluster member's link to the keeper: of all paths between them, the one whose weakest edge is
        strongest, reported as that edge (score, method). A row joined to the keeper only through an exact copy
        of a near duplicate is a near duplicate of the keeper, not an exact one."""
        ties: dict[int, tuple[float, str]] = {keeper: (math.inf, "")}
        frontier = [(-math.inf, keeper)]
        while frontier:
            width, node = heapq.heappop(frontier)
            if -width < ties[node][0]:
                continue  # a stronger path to this node was found after this entry was queued
            for other, score, method in adjacency.get(node, []):
                tie = (score, method) if score < ties[node][0] else ties[node]
                if other not in ties or tie[0] > ties[other][0]:
                    ties[other] = tie
                    heapq.heappush(frontier, (-tie[0], other))
        return ties


def word_diff(kept: str, other: str, limit: int = 400) -> str:
    """Word-level diff of a dropped row against the kept one: [-removed-] {+added+}."""
    a, b = kept.split(), other.split()
    parts = []
    for op, i1, i2, j1, j2 in word_opcodes(a, b):
        if op == "equal":
            words = a[i1:i2]
            parts.append(" ".join(words if len(words) <= 6 else [*words[:3], "…", *words[-3:]]))
        if op in ("delete", "replace"):
            parts.append("[-" + " ".join(a[i1:i2]) + "-]")
        if op in ("insert", "replace"):
            parts.append("{+" + " ".join(b[j1:j2]) + "+}")
    text = " ".join(p for p in parts if p)
    return text if len(text) <= limit else text[:limit] + "…"


def _reference_texts(params: DedupParams) -> list[str]:
    from curation_tools.roles import RoleOverrides, infer_roles

    frame, _ = read_table(Path(params.reference or ""))
    frame.columns = [str(c) for c in frame.columns]
    roles, _ = infer_roles(
        frame, RoleOverrides(text=[params.reference_text] if params.reference_text else None, label="none", id="none")
    )
    if not roles.text:
        raise UserInputError(f"{params.reference}: no text column found; pass --reference-text COLUMN.")
    return frame[roles.text].astype(str).agg("\n".join, axis=1).tolist()


def _link_exact(graph: _Graph, texts: Sequence[str]) -> None:
    """Each row to the first row with its normalised content: grouped by a 64-bit hash of that form, each copy then
    checked against its first row's form (a hash collision links nothing)."""
    hashes = normal_form_hashes(texts)
    _, first_of, codes = np.unique(hashes, return_index=True, return_inverse=True)
    first = first_of[codes.ravel()]
    copies = np.flatnonzero(first != np.arange(len(texts)))
    copied, originals = take(texts, copies), take(texts, first[copies])
    same = np.array([normalize(c) == normalize(o) for c, o in zip(copied, originals, strict=True)], dtype=bool)
    copies = copies[same] if len(copies) else copies
    graph.link(np.stack([first[copies], copies], axis=1), np.ones(len(copies)), "exact")


def _link_near(
    graph: _Graph, texts: Sequence[str], labels: list[str | None] | None, params: DedupParams, ctx: ToolContext
) -> int:
    edges, scores, candidates = near_edges(
        texts,
        size=params.shingle_size,
        num_perm=params.num_perm,
        bands=params.bands,
        floor=PLAUSIBLE_AGREEMENT,
        threshold=params.near_threshold,
        min_contained=params.min_contained,
        workers=params.workers or ctx.threads,
        ctx=ctx,
    )
    graph.link(edges, scores, "near")
    if params.one_word_apart:
        apart = one_word_apart(texts, labels)
        graph.link(np.array([(i, j) for i, j, _ in apart]), np.array([score for _, _, score in apart]), "near")
    return candidates


def _link_semantic(graph: _Graph, texts: Sequence[str], params: DedupParams, ctx: ToolContext) -> None:
    vectors = np.asarray(ctx.embedder.embed(list(texts)), dtype=np.float32)
    pairs, sims = similar_pairs(
        vectors, params.semantic_threshold, 10, params.semantic_exact_max_rows, ROWS_PER_CLUSTER, ctx.seed
    )
    graph.link(pairs, sims, "semantic")


def _keeper(members: list[int], texts: Sequence[str], protected: np.ndarray, keep: str) -> int:
    pool = [m for m in members if protected[m]] or members
    if keep == "longest":
        return max(pool, key=lambda m: (len(texts[m]), -m))
    if keep == "shortest":
        return min(pool, key=lambda m: (len(texts[m]), m))
    return min(pool)


def run(data: Dataset, params: DedupParams, ctx: ToolContext) -> ToolResult:
    started = time.perf_counter()
    data.require(["text"], SPEC.name)
    own = data.text_column()
    reference = _reference_texts(params) if params.reference else []
    texts = own.followed_by(reference)
    n_own = len(own)
    protected = np.zeros(len(texts), dtype=bool)  # test/reference rows: kept, never dropped
    protected[n_own:] = True
    if data.roles.split:
        protected[:n_own] = data.frame[data.roles.split].astype(str).str.lower().isin(TEST_SPLITS).to_numpy()
    labels: list[str | None] | None = None
    if data.roles.label:  # reference rows have no label: they match any
        labels = [*data.labels().map(str).tolist(), *[None] * len(reference)]
    graph = _Graph(len(texts))
    stats: dict[str, int] = {}
    for method in params.method:
        ctx.check_cancelled()
        if method == "exact":
            _link_exact(graph, texts)
        elif method == "near":
            stats["near_candidate_pairs"] = _link_near(graph, texts, labels, params, ctx)
        else:
            _link_semantic(graph, texts, params, ctx)
    clusters = graph.clusters()
    with many_objects():
        findings = _findings(data, texts, n_own, protected, graph, clusters, params)
    counts = pd.Series([f.issue for f in findings], dtype=str).value_counts().to_dict()
    proposal = Proposal(
        tool=SPEC.name,
        tool_version=__version__,
        params=params.model_dump(),
        findings=findings,
        summary=f"{sum(f.action.type == 'drop' for f in findings)} rows to drop "
        f"({', '.join(f'{v} {k}' for k, v in counts.items()) or 'no duplicates'}) among {n_own} rows",
    )
    report = {
        "methods": params.method,
        "clusters": len(clusters),
        **stats,
        "counts": counts,
    }
    return ToolResult(proposal=proposal, report=report, elapsed_s=time.perf_counter() - started)


NOTED_MEMBERS = 10
"""other members a conflicting-labels finding names: a cluster of 50,000 rows once gave each of its rows
every other's label, 2.5 billion notes (issue 23)"""


def _other_members(members: list[int], row: int, row_ids: Callable[[int], str], labels: list[str]) -> list[str]:
    """The first NOTED_MEMBERS other members of a cluster, with their labels."""
    return [f"{row_ids(o)}: {labels[o]}" for o in members[: NOTED_MEMBERS + 1] if o != row][:NOTED_MEMBERS]


def _cut(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _findings(
    data: Dataset,
    texts: Sequence[str],
    n_own: int,
    protected: np.ndarray,
    graph: _Graph,
    clusters: list[list[int]],
    params: DedupParams,
) -> list[Finding]:
    index = data.frame.index

    def row_ids(member: int) -> str:  # looked up per finding: a list of every row's id is 0.6 GB at 10M rows
        return str(index[member]) if member < n_own else f"reference:{member - n_own}"

    labels = data.labels().map(str).tolist() if data.roles.label else None
    best_to: dict[int, tuple[float, str]] = {}
    adjacency: dict[int, list[tuple[int, float, str]]] = {}
    pairs, scores, methods = graph.best()
    for (i, j), score, method in zip(pairs.tolist(), scores.tolist(), methods, strict=True):
        value = (score, method)
        adjacency.setdefault(i, []).append((j, *value))
        adjacency.setdefault(j, []).append((i, *value))
        for node in (i, j):
            if node not in best_to or value[0] > best_to[node][0]:
                best_to[node] = value
    findings: list[Finding] = []
    for members in clusters:
        cluster_id = f"c{members[0]}"
        own_members = [m for m in members if m < n_own]
        if labels is not None and len({labels[m] for m in own_members}) > 1:
            tally = Counter(labels[m] for m in own_members).most_common()
            summary = f"labels in the cluster's {len(own_members)} rows: " + ", ".join(f"{k} x{v}" for k, v in tally)
            for m in own_members:
                findings.append(
                    Finding(
                        row_id=row_ids(m),
                        issue="conflicting_labels",
                        score=best_to[m][0],
                        action=Action(type="flag"),
                        evidence=Evidence(
                            cluster_id=cluster_id,
                            given_label=labels[m],
                            notes=[_cut(summary), *_other_members(own_members, m, row_ids, labels)],
                        ),
                        message=f"duplicates in cluster {cluster_id} disagree on the label; review before dropping",
                    )
                )
            continue
        keeper = _keeper(members, texts, protected, params.keep)
        ties = graph.ties_to(keeper, adjacency)
        kept_text, kept_id, leak = texts[keeper], row_ids(keeper), protected[keeper]  # once per cluster
        for m in own_members:
            if m == keeper or protected[m]:
                continue
            score, method = ties[m]
            findings.append(
                Finding(
                    row_id=row_ids(m),
                    issue="split_leak" if leak else ISSUE[method],
                    score=round(score, 4),
                    action=Action(type="drop"),
                    evidence=Evidence(
                        duplicate_of=kept_id,
                        cluster_id=cluster_id,
                        method=method,
                        kept_text=kept_text[:1000],
                        diff=word_diff(kept_text, texts[m]),
                    ),
                    message=f"{'copy of test/reference row' if leak else method + ' duplicate of'} "
                    f"{kept_id} (similarity {score:.2f})",
                )
            )
    return findings


SPEC = ToolSpec(
    name="dedup",
    version=__version__,
    summary="Exact, near (MinHash + LSH, verified) and semantic duplicates; split leaks; conflicting labels.",
    issue_types=["exact_duplicate", "near_duplicate", "semantic_duplicate", "split_leak", "conflicting_labels"],
    required_roles=["text"],
    params_model=DedupParams,
    run=run,
    stage=1,
    run_owned=["reference", "reference_text"],
    finds="duplicate",
    evidence="duplicates",
    threshold="near_threshold",
    plan_hint=lambda profile, edits: PlanHint(reason="duplicates inflate classes and leak across splits"),
)
