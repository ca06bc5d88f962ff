"""Sort-based set helpers and the sparse top-k lexical retrieval, against plain numpy references."""

from __future__ import annotations

import numpy as np
import pandas as pd

from curation_tools.arrays import merged_unique, second_in_group, sorted_unique
from curation_tools.lexical import TfidfRetrieval
from curation_tools.near_dup import ShingleSets, pair_similarities


def test_sorted_unique_matches_numpy():
    rng = np.random.default_rng(0)
    for size in (0, 1, 7, 1000):
        values = rng.integers(0, 50, size).astype(np.uint32)
        assert np.array_equal(sorted_unique(values), np.unique(values))


def test_merged_unique_is_the_union_of_two_sorted_sets():
    rng = np.random.default_rng(0)
    for sizes in ((0, 0), (0, 5), (9, 0), (1000, 700)):
        one, other = (np.unique(rng.integers(0, 900, size)) for size in sizes)
        assert np.array_equal(merged_unique(one, other), np.union1d(one, other))


def test_pair_similarities_match_python_sets():
    """The sparse merge gives max(Jaccard, containment) of the distinct hashes, as sets of Python ints do."""
    rng = np.random.default_rng(2)
    docs = [rng.integers(0, size // 2 + 2, size).astype(np.uint64) for size in (0, 1, 5, 40, 90, 120, 300)]
    docs.append(docs[5][:100] | np.uint64(1 << 40))  # bits above 32 are dropped: the same hashes as docs[5]
    sets = ShingleSets(np.concatenate(docs), np.concatenate([[0], np.cumsum([len(d) for d in docs])]))
    pairs = np.array([(i, j) for i in range(len(docs)) for j in range(i + 1, len(docs))])
    got = pair_similarities(pairs, sets.distinct(), min_contained=80)
    for (i, j), score in zip(pairs, got, strict=True):
        a, b = ({int(v) & 0xFFFFFFFF for v in docs[k]} for k in (i, j))
        common = len(a & b)
        jaccard = common / len(a | b) if a | b else 0.0
        containment = common / min(len(a), len(b)) if min(len(a), len(b)) >= 80 else 0.0
        assert abs(score - max(jaccard, containment)) < 1e-6


def test_top_k_retrieval_matches_a_dense_reference():
    rng = np.random.default_rng(1)
    vocabulary = [f"w{i}" for i in range(40)]
    windows = [" ".join(rng.choice(vocabulary, 12)) for _ in range(300)]
    keys = [" ".join(rng.choice(vocabulary, 5)) for _ in range(50)]
    texts = [key + " " + " ".join(rng.choice(vocabulary, 6)) for key in keys]
    retrieval = TfidfRetrieval(windows, keys, texts)
    k, floor = 3, 0.15
    w, i, s = retrieval.top(k, floor)
    dense = np.maximum(
        (retrieval.windows @ retrieval.texts.T).toarray(), (retrieval.windows @ retrieval.keys.T).toarray()
    )
    expected = set()
    for row, scores in enumerate(dense):
        order = sorted(range(len(scores)), key=lambda item: (-scores[item], item))[:k]  # ties: lower item first
        expected |= {(row, item) for item in order if scores[item] >= floor}
    assert set(zip(w.tolist(), i.tolist(), strict=True)) == expected
    assert np.allclose(s, dense[w, i], atol=1e-6)


def test_second_in_group_is_the_groups_second_value_in_order():
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 30, 500)
    values = rng.random(500).astype(np.float32)
    expected = pd.Series(values).groupby(groups).transform(lambda v: v.iloc[1] if len(v) > 1 else -1.0)
    got = second_in_group(groups, values, -1.0)
    assert got.dtype == np.float64
    assert np.array_equal(got, expected.to_numpy(dtype=np.float64))
