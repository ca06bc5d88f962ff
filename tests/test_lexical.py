"""Lexical retrieval's top-k selection: the bound that skips hopeless entries changes no answer."""

import numpy as np
import pytest
from scipy import sparse

from curation_tools.lexical import best_entries


def _reference(product: sparse.spmatrix, n_items: int, k: int, floor: float) -> set[tuple[int, int, float]]:
    """Each row's k best items by their better view's score >= floor, ties to the lower item: by brute force."""
    dense = product.toarray()
    found = set()
    for row in range(dense.shape[0]):
        best: dict[int, float] = {}
        for col in np.flatnonzero(dense[row]):
            score = dense[row, col]
            if score >= floor:
                item = col % n_items
                best[item] = max(best.get(item, -1.0), score)
        ranked = sorted(best.items(), key=lambda pair: (-pair[1], pair[0]))[:k]
        found |= {(row, item, float(score)) for item, score in ranked}
    return found


@pytest.mark.parametrize("views", [1, 2])
@pytest.mark.parametrize("seed", range(6))
def test_best_entries_equal_brute_force(views: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_rows, n_items = 40, 300
    density = [0.02, 0.3, 0.9][seed % 3]
    product = sparse.random(n_rows, views * n_items, density=density, format="csr", random_state=seed, dtype=np.float32)
    # ties and coarse scores: many entries share a value, and some sit exactly on a bin edge
    product.data = (np.round(product.data * rng.choice([8, 1024, 10**6]), 0) / 1024).astype(np.float32)
    product.data[::7] = 0.5
    for k, floor in [(1, 0.0), (3, 1e-6), (10, 0.15), (50, 0.3)]:
        rows, items, scores = best_entries(product, n_items, k, floor)
        got = {(int(r), int(i), float(s)) for r, i, s in zip(rows, items, scores, strict=True)}
        assert got == _reference(product, n_items, k, floor)
        assert len(got) == len(rows)  # one entry per (row, item)
        ranked = sorted(zip(rows.tolist(), (-scores).tolist(), items.tolist(), strict=True))
        assert ranked == list(zip(rows.tolist(), (-scores).tolist(), items.tolist(), strict=True))  # by row, best first


def test_best_entries_keeps_negative_scores_above_a_negative_floor() -> None:
    product = sparse.csr_matrix(np.array([[-0.2, 0.5, 0.0, -0.1]], dtype=np.float32))
    _, items, scores = best_entries(product, 4, 3, -1.0)
    assert items.tolist() == [1, 3, 0] and scores.tolist() == pytest.approx([0.5, -0.1, -0.2])


def test_best_entries_of_an_empty_benchmark_is_empty() -> None:
    assert all(len(a) == 0 for a in best_entries(sparse.csr_matrix((3, 0), dtype=np.float32), 0, 3, 0.1))
