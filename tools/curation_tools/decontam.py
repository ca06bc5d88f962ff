"""Benchmark contamination: training rows that hold a benchmark item, verbatim or reworded.

Layers, combined into one score per (row, item) pair:
1. word n-gram coverage of the item by the row (frequent n-grams filtered), short items matched whole;
2. IDF-weighted token containment of the item in a window of the row (also retrieves candidates);
3. embedding cosine between the window and the item's question or prompt (MiniLM; item vectors in a chromadb
   collection), and how far the row stands out from the item's nearest other item and other training rows;
4. with an LLM judge configured, a verdict on pairs whose score falls in the borderline band.
Long rows are cut into overlapping word windows, so an item inside a long document is found.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from curation_tools import __version__
from curation_tools.arrays import second_in_group
from curation_tools.benchmark_files import BenchmarkItems, load_benchmark
from curation_tools.code_view import code_pairs, is_code
from curation_tools.context import ContaminationQuestion, ToolContext
from curation_tools.dataset import Dataset
from curation_tools.engine import TextShard, in_order
from curation_tools.errors import UserInputError
from curation_tools.lexical import TfidfRetrieval
from curation_tools.neighbours import nearest
from curation_tools.ngram_index import (
    SHORT_KEY_TOKENS,
    ItemGrams,
    Overlap,
    TokenStream,
    gram_hits,
    index_items,
    overlap,
    overlap_of_hits,
    shared_spans,
    tokenize,
)
from curation_tools.query_slots import negated
from curation_tools.question_view import question_pairs, short_rows
from curation_tools.schema import (
    Action,
    Coverage,
    Evidence,
    EvidenceField,
    Finding,
    PlanHint,
    Proposal,
    ToolResult,
    ToolSpec,
)
from curation_tools.short_items import (
    NEAR_MATCHES_LISTED,
    SURFACE_VARIANT,
    ShortItemCopies,
    short_item_copies,
    slot_swaps_among_copies,
)
from curation_tools.text import SHORT_TEXT_WORDS, word_windows
from curation_tools.vector_store import BenchmarkVectors


class DecontamParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error, not ignored

    benchmark: list[str] = Field(
        ...,
        description="benchmark file PATH[:FIELD,...|PRESET] (repeatable); presets: gsm8k, mmlu, humaneval, arc, "
        "truthfulqa (recognised from the columns when FIELDS is left out)",
        json_schema_extra={"repeatable": True},
    )
    ngram: int = Field(8, ge=3, le=20, description="word n-gram size of the overlap layer")
    min_short_tokens: int = Field(
        4, ge=1, le=20, description="items shorter than --ngram are matched whole from this length"
    )
    max_item_spread: int = Field(
        10, ge=1, le=100_000, description="an n-gram in more benchmark items than this is a template"
    )
    max_doc_fraction: float = Field(
        0.005, gt=0, le=1, description="an n-gram in more than this fraction of training rows (and 20) is boilerplate"
    )
    window_words: int = Field(
        160, ge=20, le=5000, description="long rows are cut into windows of this many words (50% overlap)"
    )
    top_k: int = Field(3, ge=1, le=50, description="benchmark candidates retrieved per window and layer")
    candidate_floor: float = Field(0.15, ge=0, le=1, description="TF-IDF cosine for a benchmark item to be a candidate")
    embed_floor: float = Field(0.3, ge=0, le=1, description="TF-IDF cosine a window needs to be embedded")
    embed_all: bool = Field(False, description="embed every window, not only lexical candidates (slower)")
    full_index: bool = Field(
        False,
        description="embed every benchmark item up front (minutes for a large benchmark) and retrieve by embedding "
        "among all items; default: embed only the items lexical retrieval proposes and their TF-IDF neighbours",
    )
    paraphrase: bool = Field(
        True, description="score reworded copies (embedding layer); off: verbatim and short exact matches only"
    )
    questions: bool = Field(
        True,
        description="score reworded exam questions (items with choices or an answer) in rows of up to 80 words; "
        "queries (items that are only their text) never are",
    )
    threshold: float = Field(0.5, gt=0, le=1, description="combined score at which a row is flagged")
    judge_band: list[float] = Field([0.3, 0.7], description="with an LLM judge: scores in [low, high] are sent to it")
    judge_min_confidence: float = Field(
        0.8, ge=0.5, le=1, description="a judge's verdict moves a score only from this confidence up (else: evidence)"
    )


# Paraphrase layer: logistic regression on the TF-IDF cosine, the embedding cosine, the share of the item's numbers
# found in the window, the item margin (embedding cosine minus the item's cosine to its nearest other item) and
# the row margin (minus that of the item's closest other training row, clipped to [-1, 1]); fitted once by
# benchmarks/decontam.py --fit on the dev half of its planted corpus (benchmark items with even ids) and
# evaluated on the held-out odd ids; see benchmarks/README.md. (The fit sees margins computed with these weights,
# which pick the items whose neighbours are embedded: refitting with them gives the same weights to +-0.02.)
PARAPHRASE_WEIGHTS = {
    "lexical": 4.04,
    "embedding": 15.82,
    "numbers": 2.21,
    "margin": 3.52,
    "row_margin": 5.14,
    "bias": -17.44,
}
NGRAM_HIT = 0.5  # n-gram coverage from which a pair counts as verbatim
NUMBERS_HELD = 0.5  # weighted share of an item's numbers a copy must hold: less is the item's template, other numbers
REWORDING_FLOOR = 0.8  # embedding cosine a rewording needs (97% of llm-decontaminator's GSM8K rephrases reach it)
MARGIN_NEIGHBOURS = 10  # items nearest by TF-IDF also embedded: an item's nearest other item is sought among them
MARGIN_FLOOR = 0.1  # ... for the items of pairs whose paraphrase probability (all numbers found) reaches this
ROW_MARGIN = 0.02  # how much closer than any other training row a reworded copy must be to its item
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    )
}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)


@dataclass
class Corpus:
    """Benchmarks concatenated: global item index -> (benchmark, local index)."""

    benchmarks: list[BenchmarkItems]
    bench_of: np.ndarray
    local: np.ndarray
    keys: list[str]
    texts: list[str]


def _corpus(benchmarks: list[BenchmarkItems]) -> Corpus:
    bench_of = np.concatenate([np.full(len(b.texts), i) for i, b in enumerate(benchmarks)])
    local = np.concatenate([np.arange(len(b.texts)) for b in benchmarks])
    return Corpus(
        benchmarks,
        bench_of,
        local,
        [k for b in benchmarks for k in b.keys],
        [t for b in benchmarks for t in b.texts],
    )


def _embedding_pairs(
    windows: list[str],
    to_embed: np.ndarray,
    candidates: pd.DataFrame,
    corpus: Corpus,
    retrieval: TfidfRetrieval,
    params: DecontamParams,
    ctx: ToolContext,
) -> pd.DataFrame:
    """Embedded windows' candidate pairs with `lexical`, `embedding` (window-to-item-key cosine) and `margin`
    (that minus the item's cosine to its nearest other item).

    By default only the items lexical retrieval proposes are embedded; each window also gets its top-k of those
    by embedding. For the items of pairs that could score MARGIN_FLOOR or more, their MARGIN_NEIGHBOURS nearest
    items by TF-IDF are embedded too, so that an item's nearest other item is found among them (for the other
    pairs it is sought among the items embedded, which can only make their low scores higher). --full-index
    embeds every item once, takes the true nearest other item and retrieves each window's top-k items by
    embedding among all of them.
    """
    window_vectors = np.asarray(ctx.embedder.embed([windows[w] for w in to_embed]), dtype=np.float32)
    store = _store(corpus, ctx)
    lexical = candidates[candidates["window"].isin(to_embed)][["window", "item", "lexical"]]
    if params.full_index:
        embedded = np.arange(len(corpus.keys))
        item_vectors = store.build(corpus.keys, ctx.progress)[0]
        by_embedding = store.query(window_vectors, params.top_k)[0]
    else:
        embedded = np.unique(lexical["item"].to_numpy())
        item_vectors = store.vectors(corpus.keys, embedded, ctx.progress)
        by_embedding = embedded[nearest(item_vectors, params.top_k, queries=window_vectors)[0]]
    found = pd.DataFrame({"window": np.repeat(to_embed, by_embedding.shape[1]), "item": by_embedding.ravel()})
    pairs = pd.concat([lexical, found]).drop_duplicates(["window", "item"], ignore_index=True)  # lexical ones first
    rows = np.searchsorted(to_embed, pairs["window"].to_numpy())
    unknown = pairs["lexical"].isna().to_numpy()  # pairs found by embedding only
    pairs.loc[unknown, "lexical"] = retrieval.cosine(
        pairs.loc[unknown, "window"].to_numpy(), pairs.loc[unknown, "item"].to_numpy()
    )
    pairs["embedding"] = np.einsum(
        "ij,ij->i", window_vectors[rows], item_vectors[np.searchsorted(embedded, pairs["item"].to_numpy())]
    )
    if params.full_index:
        return _with_margin(pairs, embedded, _nearest_other(store, item_vectors, params.top_k))
    # margins among the items embedded so far are upper bounds; with every number found and the largest row
    # margin, so is the probability (the model's weights are positive)
    pairs = _with_margin(pairs, embedded, _nearest_embedded(item_vectors))
    plausible = paraphrase_probability(pairs.assign(numbers=1.0, row_margin=1.0)) >= MARGIN_FLOOR
    links = retrieval.item_neighbours(np.unique(pairs.loc[plausible, "item"].to_numpy()), MARGIN_NEIGHBOURS)
    extra = np.setdiff1d(links[:, 1], embedded)
    if len(extra):
        embedded, order = np.unique(np.concatenate([embedded, extra]), return_index=True)
        item_vectors = np.concatenate([item_vectors, store.vectors(corpus.keys, extra, ctx.progress)])[order]
        pairs = _with_margin(pairs, embedded, _nearest_embedded(item_vectors))
    return pairs


def _with_margin(pairs: pd.DataFrame, items: np.ndarray, nearest_other: np.ndarray) -> pd.DataFrame:
    """`margin`: the pair's embedding cosine minus its item's cosine to the nearest other item (`items` sorted)."""
    return pairs.assign(margin=pairs["embedding"] - nearest_other[np.searchsorted(items, pairs["item"].to_numpy())])


def _nearest_embedded(vectors: np.ndarray) -> np.ndarray:
    """Each vector's cosine to its most similar other vector (-1 for a lone one)."""
    if len(vectors) < 2:
        return np.full(len(vectors), -1.0, dtype=np.float32)
    return nearest(vectors, 1)[1][:, 0]


def _nearest_other(store: BenchmarkVectors, vectors: np.ndarray, k: int) -> np.ndarray:
    """Each item's cosine to its most similar other item (-1 for a lone item)."""
    if len(vectors) < 2:
        return np.full(len(vectors), -1.0, dtype=np.float32)
    idx, sim = store.query(vectors, min(k + 1, len(vectors)))
    sim = np.where(idx == np.arange(len(vectors))[:, None], -1.0, sim)
    return sim.max(axis=1)


NEAR_LEXICAL = 0.5  # TF-IDF cosine from which a short row and a short item are checked as a near match


def pair_features(
    texts: list[str], corpus: Corpus, params: DecontamParams, ctx: ToolContext
) -> tuple[pd.DataFrame, ShortItemCopies]:
    """One row per (row, item) candidate pair: n-gram coverage, lexical cosine, embedding (NaN: not computed);
    and the short items' copies (coverage 1) and near matches."""
    key_tokens = [tokenize(k) for k in corpus.keys]
    index = index_items(
        key_tokens,
        [tokenize(t) for t in corpus.texts],
        params.ngram,
        params.min_short_tokens,
        params.max_item_spread,
    )
    max_doc_freq = max(20, int(params.max_doc_fraction * len(texts)))
    if ctx.engine.name == "local":
        ctx.progress("tokenizing", 0, len(texts))
        stream = TokenStream.from_tokens([tokenize(t) for t in texts])
        ctx.progress("tokenizing", len(texts), len(texts))
        grams = overlap(stream, index, params.ngram, max_doc_freq)
    else:
        grams = _engine_overlap(texts, index, params.ngram, max_doc_freq, ctx)
    ctx.check_cancelled()
    by_ngram = pd.DataFrame({"row": grams.docs, "item": grams.items, "coverage": grams.coverage})

    # overlapping windows (half a window apart) so an item is not cut at a window's edge
    size = params.window_words
    windows, owner_list = word_windows(texts, size, max(1, size // 2), min_tail=size // 2)
    owners = np.asarray(owner_list, dtype=np.int64)
    retrieval = TfidfRetrieval(windows, corpus.keys, corpus.texts)
    w_idx, i_idx, cosine = retrieval.top(params.top_k, params.candidate_floor, ctx.progress)
    ctx.check_cancelled()
    candidates = pd.DataFrame({"window": w_idx, "item": i_idx, "lexical": cosine})
    # a rewording of a short item (a query) cannot be told offline from a new query with the same intent: only
    # long items are scored as rewordings, short ones as near copies (ngram_index)
    long_item = index.key_lengths >= SHORT_KEY_TOKENS
    if not params.paraphrase:
        to_embed = np.zeros(0, dtype=np.int64)
    elif params.embed_all:
        to_embed = np.arange(len(windows))
    else:
        to_embed = np.unique(w_idx[(cosine >= params.embed_floor) & long_item[i_idx]])
    candidates["embedding"] = candidates["margin"] = np.nan
    if len(to_embed):
        embedded = _embedding_pairs(windows, to_embed, candidates, corpus, retrieval, params, ctx)
        candidates = pd.concat([candidates[~candidates["window"].isin(to_embed)], embedded], ignore_index=True)
    candidates.loc[~long_item[candidates["item"].to_numpy()], ["embedding", "margin"]] = np.nan
    candidates["row"] = owners[candidates["window"].to_numpy()]
    near = candidates.loc[candidates["lexical"] >= NEAR_LEXICAL, ["row", "item"]]
    shared = pd.DataFrame({"row": grams.short_docs, "item": grams.short_items})
    short = short_item_copies(
        texts,
        corpus.keys,
        corpus.texts,
        key_tokens,
        index.key_lengths,
        params.min_short_tokens,
        SHORT_KEY_TOKENS,
        pd.concat([shared, near], ignore_index=True),
    )
    held = by_ngram.loc[by_ngram["coverage"] >= NGRAM_HIT, ["row", "item"]]  # copies by n-grams keep that name
    short.copies = short.copies.merge(held, how="left", indicator=True).query("_merge == 'left_only'")
    short.copies = short.copies.drop(columns="_merge")
    by_short = short.copies[["row", "item"]].assign(coverage=1.0)
    pairs = pd.concat([by_ngram, by_short, candidates.drop(columns="window")], ignore_index=True)
    pairs["coverage"] = pairs["coverage"].fillna(0.0)
    pairs["lexical"] = pairs["lexical"].fillna(0.0)
    pairs = pairs.groupby(["row", "item"], as_index=False).max()
    swapped, near_copies = slot_swaps_among_copies(pairs, texts, corpus.keys, index.key_lengths, NGRAM_HIT)
    # another query with most of the item's words, not a copy nor a rewording: its near match is reported
    pairs["slot_swap"] = swapped
    pairs.loc[swapped, "coverage"] = 0.0
    short.near_matches = pd.concat([near_copies, short.near_matches], ignore_index=True)
    return pairs, short


NGRAM_SHARD = 20_000  # rows per n-gram task on a distributed engine


def _shard_hits(shard: TextShard, index: ItemGrams, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A shard's benchmark gram hits: the unit of work an engine runs."""
    return gram_hits(TokenStream.from_tokens([tokenize(t) for t in shard.texts()]), index, n, shard.start)


def _engine_overlap(texts: list[str], index: ItemGrams, n: int, max_doc_freq: int, ctx: ToolContext) -> Overlap:
    """`overlap` with the rows read shard by shard on the engine; only candidate rows are tokenized here."""
    shared = ctx.engine.share(index)
    with ctx.engine.shards(texts, NGRAM_SHARD) as shards:
        found = in_order(
            ctx.engine.map(_shard_hits, shards, shared, n, stage="n-grams", progress=ctx.progress), len(shards)
        )
    grams = np.concatenate([g for g, _ in found]) if found else np.zeros(0, dtype=np.uint64)
    docs = np.concatenate([d for _, d in found]) if found else np.zeros(0, dtype=np.int64)
    return overlap_of_hits(
        grams, docs, lambda ids: TokenStream.from_tokens([tokenize(texts[d]) for d in ids]), index, max_doc_freq
    )


_STORES: dict[str, BenchmarkVectors] = {}


def _store(corpus: Corpus, ctx: ToolContext) -> BenchmarkVectors:
    """The vector store of this corpus's item keys (one per content hash and embedder, reused in the process)."""
    content = "+".join(b.content_hash for b in corpus.benchmarks)
    key = f"{ctx.index_dir}|{content}|{ctx.embedder.name}"
    if key not in _STORES:
        digest = hashlib.blake2b(content.encode(), digest_size=16).hexdigest()
        _STORES[key] = BenchmarkVectors(ctx.index_dir, digest, ctx.embedder, "key")
    return _STORES[key]


def numbers_in(text: str) -> set[str]:
    return {_NUMBER_WORDS.get(m.lower(), m.replace(",", "")) for m in _NUMBER.findall(text)}


def number_weights(item_texts: list[str]) -> dict[str, float]:
    """How telling each number is: its inverse document frequency among the benchmark's items (a 2 or a 10 is
    in many math problems and says little; a 96 or a 150 is in few)."""
    counts: dict[str, int] = {}
    for text in item_texts:
        for number in numbers_in(text):
            counts[number] = counts.get(number, 0) + 1
    return {number: float(np.log((1 + len(item_texts)) / (1 + count))) + 1.0 for number, count in counts.items()}


def number_share(row_texts: list[str], item_texts: list[str], weights: dict[str, float]) -> np.ndarray:
    """Share of an item's numbers (digits or number words) found in the row, each weighted by how telling it is
    (`number_weights`); NaN when the item has fewer than 2 (no evidence either way)."""
    shares = np.full(len(row_texts), np.nan)
    for j, (row, item) in enumerate(zip(row_texts, item_texts, strict=True)):
        wanted = numbers_in(item)
        if len(wanted) >= 2:
            total = sum(weights.get(n, 1.0) for n in wanted)
            shares[j] = sum(weights.get(n, 1.0) for n in wanted & numbers_in(row)) / total
    return shares


def _row_margin(pairs: pd.DataFrame) -> np.ndarray:
    """A pair's embedding cosine minus that of the item's closest other training row (inf when none).

    Rows that hold the item verbatim are left out of the comparison: a second copy of an item is another
    copy, not a sign that the rows near it merely share its topic (they are flagged by n-grams anyway).
    """
    emb = pairs["embedding"].fillna(-np.inf).to_numpy()
    emb = np.where(pairs["coverage"].to_numpy() >= NGRAM_HIT, -np.inf, emb)
    frame = pd.DataFrame({"item": pairs["item"].to_numpy(), "emb": emb, "pos": np.arange(len(pairs))})
    frame = frame.sort_values(["item", "emb"], ascending=[True, False])
    rank = frame.groupby("item").cumcount().to_numpy()
    first = frame.groupby("item")["emb"].transform("first").to_numpy()
    second = second_in_group(frame["item"].to_numpy(), frame["emb"].to_numpy(), -np.inf)
    other = np.where(rank == 0, second, first)
    margin = np.empty(len(pairs))
    with np.errstate(invalid="ignore"):  # -inf - -inf for pairs without embeddings: nan, never above the margin
        margin[frame["pos"].to_numpy()] = frame["emb"].to_numpy() - other
    return margin


def row_margin_feature(row_margin: np.ndarray) -> np.ndarray:
    """The row margin as the paraphrase model sees it: clipped to [-1, 1], -1 where it is undefined."""
    return np.nan_to_num(np.clip(row_margin, -1, 1), nan=-1)


def paraphrase_probability(features: pd.DataFrame) -> np.ndarray:
    """The paraphrase model alone (a logistic regression on PARAPHRASE_WEIGHTS' features), before the margin rules."""
    z = sum(weight * features[name] for name, weight in PARAPHRASE_WEIGHTS.items() if name != "bias")
    return 1 / (1 + np.exp(-np.asarray(z + PARAPHRASE_WEIGHTS["bias"], dtype=np.float64)))


def score_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Add `score` and `method`: n-gram coverage when it fired, else the paraphrase model (0 when not embedded)."""
    row_margin = _row_margin(pairs)
    numbers = pairs["numbers"].to_numpy(dtype=np.float64)
    para = paraphrase_probability(
        pairs.assign(row_margin=row_margin_feature(row_margin), numbers=np.nan_to_num(numbers))
    )
    # a rewording must be closer to its item than the benchmark's nearest other item is: otherwise the row is
    # only on the same topic (e.g. a training query of an intent the benchmark has many paraphrases of)
    para = np.where(pairs["embedding"].isna() | (pairs["margin"] <= 0), 0.0, para)
    # ... and it must stand out among the training rows close to that item: when several rows are about
    # equally close, they share a topic with it rather than copy it
    para = np.where(row_margin <= ROW_MARGIN, 0.0, para)
    # ... and keep the item's meaning closely: two math problems on one topic sit at 0.6-0.8
    para = np.where(pairs["embedding"].fillna(0).to_numpy() < REWORDING_FLOOR, 0.0, para)
    # the item's words (or meaning) with other numbers is another problem, copied or reworded (NaN: no evidence)
    template = numbers < NUMBERS_HELD
    para = np.where(template | pairs["slot_swap"].to_numpy(dtype=bool), 0.0, para)
    coverage = pairs["coverage"].to_numpy()
    verbatim = (coverage >= NGRAM_HIT) & ~template
    pairs = pairs.copy()
    pairs["score"] = np.where(verbatim, np.maximum(0.5 + 0.5 * coverage, para), para)
    pairs["method"] = np.where(verbatim, "ngram", "embedding+overlap")
    return pairs


CODE_REWORDING = "code rewording"


def _code_rewordings(texts: list[str], corpus: Corpus, ctx: ToolContext) -> pd.DataFrame:
    """Code rows scored against the code items (a HumanEval program) by what they say and how they are built."""
    items = np.flatnonzero([is_code(t) for t in corpus.texts])
    rows = np.flatnonzero([is_code(t) for t in texts]) if len(items) else np.zeros(0, dtype=np.int64)
    pairs = code_pairs(texts, rows, corpus.texts, items, ctx.embedder.embed)
    return pd.DataFrame(
        {
            "row": pairs["row"].astype(np.int64),
            "item": pairs["item"].astype(np.int64),
            "score": pairs["score"].astype(float),
            "method": CODE_REWORDING,
            "coverage": 0.0,
            "lexical": 0.0,
            "embedding": pairs["words"].astype(float),
            "numbers": np.nan,
            "code_shape": pairs["shape"].astype(float),
        }
    )


QUESTION_REWORDING = "question rewording"


def _question_rewordings(
    texts: list[str], corpus: Corpus, weights: dict[str, float], floor: float, ctx: ToolContext
) -> pd.DataFrame:
    """Short rows scored against the exam items (items with choices or an answer) as reworded questions. Every
    number of the item's question (or of the closing question it matched) must be held: else it is another
    problem on the item's template ("5 days, 20 episodes of 30 minutes" for "episodes of 20 minutes"); and a
    question negated on one side only ("Which is NOT ...") asks the opposite. (No other slot rule here: a rewording
    changes content words by design, "signify" for "means".) Those rules are read only for pairs scoring `floor`
    or more: below it a score is neither flagged nor judged, whatever the rules say."""
    items = np.flatnonzero([t != k for t, k in zip(corpus.texts, corpus.keys, strict=True)])
    pairs = question_pairs(texts, short_rows(texts), corpus.keys, items, ctx.embedder.embed)
    scores = pairs["score"].to_numpy(dtype=float)
    read = np.flatnonzero(scores >= floor)
    row_texts = [texts[r] for r in pairs["row"].to_numpy()[read]]
    view_texts = pairs["view_text"].to_numpy()[read].tolist()
    numbers = np.full(len(pairs), np.nan)
    numbers[read] = number_share(row_texts, view_texts, weights)
    held = (numbers[read] >= 1.0 - 1e-9) | np.isnan(numbers[read])  # a reworded question keeps every number it asks
    flipped = np.asarray([negated(r) != negated(v) for r, v in zip(row_texts, view_texts, strict=True)], dtype=bool)
    broken = np.zeros(len(pairs), dtype=bool)
    broken[read] = ~held | flipped
    return pd.DataFrame(
        {
            "row": pairs["row"].astype(np.int64),
            "item": pairs["item"].astype(np.int64),
            "score": np.where(broken, 0.0, scores),
            "method": QUESTION_REWORDING,
            "coverage": 0.0,
            "lexical": 0.0,
            "embedding": pairs["cosine"].astype(float),
            "numbers": numbers,
        }
    )


def _judge(best: pd.DataFrame, texts: list[str], corpus: Corpus, params: DecontamParams, ctx: ToolContext) -> int:
    """Borderline pairs go to the LLM judge; a verdict it is sure of (`judge_min_confidence`) is averaged into the
    score, any verdict is kept as evidence."""
    low, high = params.judge_band
    band = best[(best["score"] >= low) & (best["score"] <= high)]
    if ctx.contamination_judge is None or band.empty:
        return 0
    questions = [
        ContaminationQuestion(pair_id=str(i), train_text=texts[r][:4000], benchmark_text=corpus.texts[it][:4000])
        for i, r, it in zip(band.index, band["row"], band["item"], strict=True)
    ]
    for verdict in ctx.contamination_judge.judge_contamination(questions):
        i = int(verdict.pair_id)
        acts = verdict.confidence >= params.judge_min_confidence
        if acts:
            support = verdict.confidence if verdict.contaminated else 1 - verdict.confidence
            best.loc[i, "score"] = 0.5 * best.loc[i, "score"] + 0.5 * support
            best.loc[i, "method"] = best.loc[i, "method"] + "+llm_judge"
        best.loc[i, "judge"] = json.dumps({**verdict.model_dump(), "acted": acts})
    return len(questions)


def run(data: Dataset, params: DecontamParams, ctx: ToolContext) -> ToolResult:
    started = time.perf_counter()
    data.require(["text"], SPEC.name)
    if not params.benchmark:
        raise UserInputError("The decontam tool needs at least one --benchmark PATH[:FIELDS] (a local file).")
    corpus = _corpus([load_benchmark(spec) for spec in params.benchmark])
    texts = data.texts().tolist()
    pairs, short = pair_features(texts, corpus, params, ctx)
    embedded = pairs["embedding"].notna().to_numpy()
    checked = embedded | (pairs["coverage"].to_numpy() >= NGRAM_HIT)
    pairs["numbers"] = np.nan
    weights = number_weights(corpus.keys)
    pairs.loc[checked, "numbers"] = number_share(
        [texts[r] for r in pairs.loc[checked, "row"]], [corpus.keys[i] for i in pairs.loc[checked, "item"]], weights
    )
    scored = score_pairs(pairs)
    how = short.copies.set_index(["row", "item"])["method"]
    named = pd.MultiIndex.from_frame(scored[["row", "item"]]).map(how.to_dict()).to_numpy()  # short items' copies
    scored["method"] = np.where((scored["method"] == "ngram") & pd.notna(named), named, scored["method"])
    extra = [_code_rewordings(texts, corpus, ctx)]
    if params.questions:  # its own switch: exam items are told from a topic by their specifics, short rows too
        extra.append(_question_rewordings(texts, corpus, weights, min(params.threshold, params.judge_band[0]), ctx))
    scored = pd.concat([scored, *extra], ignore_index=True)
    best = scored.sort_values(["score", "item"], ascending=[False, True]).drop_duplicates("row")
    best = best.reset_index(drop=True)
    best["judge"] = None
    judged = _judge(best, texts, corpus, params, ctx)
    flagged = best[best["score"] >= params.threshold].sort_values("score", ascending=False)
    row_ids = data.row_ids
    near = _near_matches(short.near_matches, flagged, row_ids, corpus)
    findings = [_finding(row_ids, texts, corpus, row, params) for row in flagged.itertuples()]
    counts = pd.Series([f.evidence.benchmark for f in findings], dtype=str).value_counts().to_dict()
    proposal = Proposal(
        tool=SPEC.name,
        tool_version=__version__,
        params=params.model_dump(),
        findings=findings,
        summary=f"{len(findings)} rows hold benchmark items "
        f"({', '.join(f'{v} {k}' for k, v in counts.items()) or 'none'}) among {len(texts)} rows" + _near_summary(near),
    )
    report = {
        "benchmarks": {b.name: {"path": b.path, "fields": b.fields, "items": len(b.texts)} for b in corpus.benchmarks},
        "candidate_pairs": len(pairs),
        "embedded_pairs": int(embedded.sum()),
        "judged": judged,
        "by_method": flagged["method"].value_counts().to_dict(),
        "by_benchmark": counts,
        "near_matches_not_flagged": near,
    }
    return ToolResult(proposal=proposal, report=report, elapsed_s=time.perf_counter() - started)


def _finding(row_ids: list[str], texts: list[str], corpus: Corpus, row, params: DecontamParams) -> Finding:
    bench = corpus.benchmarks[int(corpus.bench_of[row.item])]
    local = int(corpus.local[row.item])
    item_text = corpus.texts[row.item]
    # a surface variant shares runs of words, not whole n-grams: mark every shared pair of words
    n = 2 if row.method == SURFACE_VARIANT else params.ngram
    spans = shared_spans(tokenize(texts[row.row]), tokenize(item_text), n)
    embedding = None if pd.isna(row.embedding) else round(float(row.embedding), 4)
    evidence = Evidence(
        benchmark=bench.name,
        benchmark_item=bench.ids[local],
        benchmark_text=item_text[:1000],
        method=row.method,
        overlapping_spans=spans,
        ngram_coverage=round(float(row.coverage), 4),
        lexical_cosine=round(float(row.lexical), 4),
        embedding_cosine=embedding,
        number_share=None if pd.isna(row.numbers) else round(float(row.numbers), 4),
        judge=None if row.judge is None else json.loads(row.judge),
        code_shape_share=None if pd.isna(getattr(row, "code_shape", np.nan)) else round(float(row.code_shape), 4),
    )
    how = (
        "looks like a rewording of"
        if row.method.startswith(("embedding", CODE_REWORDING, QUESTION_REWORDING))
        else "copies"
    )
    return Finding(
        row_id=row_ids[row.row],
        issue="contamination",
        score=round(float(row.score), 4),
        action=Action(type="drop"),
        evidence=evidence,
        message=f"{how} {bench.name} item {bench.ids[local]} (score {row.score:.2f}, {row.method})",
    )


def _near_matches(near: pd.DataFrame, flagged: pd.DataFrame, row_ids: list[str], corpus: Corpus) -> dict[str, Any]:
    """Short rows that share most words with a short item but differ in a content slot: new queries, not flagged.
    How many per slot, and the closest few with the words that differ."""
    near = near[~near["row"].isin(flagged["row"])].drop_duplicates("row")
    listed = []
    for match in near.head(NEAR_MATCHES_LISTED).itertuples():
        bench = corpus.benchmarks[int(corpus.bench_of[match.item])]
        listed.append(
            {
                "row_id": row_ids[match.row],
                "benchmark": bench.name,
                "benchmark_item": bench.ids[int(corpus.local[match.item])],
                "similarity": round(float(match.similarity), 3),
                "slot": match.slot,
                "differs": match.detail,
            }
        )
    return {"count": len(near), "by_slot": near["slot"].value_counts().to_dict(), "closest": listed}


def _near_summary(near: dict[str, Any]) -> str:
    if not near["count"]:
        return ""
    slots = ", ".join(f"{n} {slot}" for slot, n in near["by_slot"].items())
    return f"; {near['count']} near matches are new queries, not flagged (the slot that differs: {slots})"


def plan_hint(profile: dict[str, Any], edits: int) -> PlanHint:
    """Paraphrase layers only where rows are long enough to tell a rewording from a query with the same intent."""
    words = (profile.get("text_length") or {}).get("words_mean", 0.0)
    if words >= SHORT_TEXT_WORDS:
        return PlanHint(params={"paraphrase": True}, reason="benchmark items in training data inflate scores")
    return PlanHint(
        params={"paraphrase": False, "full_index": False, "embed_all": False},
        reason=f"benchmark items in training data inflate scores; rows average {words:.0f} words, too short to tell "
        "a rewording from a query with the same intent offline, so verbatim matching only",
        fixed=["paraphrase", "full_index", "embed_all"],  # on short rows the embedding layers only add false copies
    )


def coverage(params: dict[str, Any]) -> Coverage:
    """What a decontam run with these parameters checked, and what it did not (a dataset card says both)."""
    checked = [
        f"word {params.get('ngram', 8)}-gram overlap",
        "surface variants of short items (a content slot changed is a new query) and items held as a sentence",
        "reworded programs (code items' words and shape)",
    ]
    not_checked = ["any benchmark not listed here", "translations into other languages"]
    if params.get("questions", True):
        checked.append("reworded exam questions (items with choices or an answer)")
    else:
        not_checked.append("reworded exam questions (--no-questions)")
    if params.get("paraphrase", True):
        checked.append("TF-IDF and MiniLM embedding similarity (reworded long items)")
    else:
        not_checked.append("reworded copies (the paraphrase layer was off: rows too short to tell offline)")
    if not params.get("full_index", False):
        not_checked.append("items lexical retrieval did not propose (no full embedding index)")
    return Coverage(checked=checked, not_checked=not_checked)


SPEC = ToolSpec(
    name="decontam",
    version=__version__,
    summary="Benchmark items in training rows: n-gram overlap, TF-IDF and embedding similarity, optional LLM judge.",
    issue_types=["contamination"],
    required_roles=["text"],
    params_model=DecontamParams,
    run=run,
    stage=1,
    benchmarks="required",
    run_owned=["benchmark"],
    finds="leak",
    evidence="overlap",
    evidence_fields=[
        EvidenceField(
            name="code_shape_share", title="share of the item's code shape (names and words out)", kind="number"
        )
    ],
    threshold="threshold",
    coverage=coverage,
    plan_hint=plan_hint,
)
