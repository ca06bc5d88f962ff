"""Benchmark item embeddings in a chromadb PersistentClient collection, built once per content hash.

We pass embeddings ourselves (chromadb's default embedding function would download a model) and
turn telemetry off. The collection name carries the benchmark's content hash and the embedder, so
an edited benchmark file or another embedder gets a new collection and a stale one is never used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from curation_tools.context import ProgressFn, no_progress
from curation_tools.embed import Embedder


class BenchmarkVectors:
    def __init__(self, directory: Path, content_hash: str, embedder: Embedder, view: str = "text") -> None:
        import chromadb  # lazy: chromadb takes a second to import
        from chromadb.config import Settings

        directory.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(path=str(directory), settings=Settings(anonymized_telemetry=False))
        model = hashlib.blake2b(embedder.name.encode(), digest_size=4).hexdigest()
        self.name = f"bench-{content_hash[:24]}-{model}-{view}"
        self.embedder = embedder

    def build(self, texts: list[str], progress: ProgressFn = no_progress) -> tuple[np.ndarray, bool]:
        """All item vectors in item order, and whether the stored index was reused."""
        collection = self._client.get_or_create_collection(
            self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        if collection.count() == len(texts):
            stored = collection.get(include=["embeddings"])
            order = np.argsort(np.asarray(stored["ids"], dtype=np.int64))
            return np.asarray(stored["embeddings"], dtype=np.float32)[order], True
        if collection.count():  # interrupted build: start over
            self._client.delete_collection(self.name)
            collection = self._client.create_collection(
                self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        progress("embedding benchmark", 0, len(texts))
        vectors = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        step = self._client.get_max_batch_size()
        for start in range(0, len(texts), step):
            stop = min(start + step, len(texts))
            collection.add(ids=[str(i) for i in range(start, stop)], embeddings=vectors[start:stop])
            progress("indexing benchmark", stop, len(texts))
        return vectors, False

    def query(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items (indices, cosine similarities) for each query vector, from the HNSW index."""
        collection = self._client.get_collection(self.name, embedding_function=None)
        k = min(k, collection.count())
        result = collection.query(query_embeddings=vectors, n_results=k, include=["distances"])
        idx = np.asarray([[int(i) for i in row] for row in result["ids"]], dtype=np.int64).reshape(len(vectors), k)
        sim = 1.0 - np.asarray(result["distances"], dtype=np.float32).reshape(len(vectors), k)
        return idx, sim
