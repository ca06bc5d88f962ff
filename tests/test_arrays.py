"""Sort-based set helpers and the sparse top-k lexical retrieval, against plain numpy references."""

from __future__ import annotations

import numpy as np

from curation_tools.arrays import shared_count, sorted_unique
from curation_tools.lexical import TfidfRetrieval


def test_sorted_unique_and_shared_count_match_numpy():
    rng = np.random.default_rng(0)
    for size in (0, 1, 7, 1000):
        values = sorted_unique(rng.integers(0, 50, size).astype(np.uint32))
        others = sorted_unique(rng.integers(0, 60, 200).astype(np.uint32))
        assert np.array_equal(values, np.unique(values))
        assert shared_count(values, others) == len(np.intersect1d(values, others))


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
