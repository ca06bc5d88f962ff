"""Benchmark item embeddings in a chromadb PersistentClient collection, one per content hash, filled as needed.

We pass embeddings ourselves (chromadb's default embedding function would download a model) and
turn telemetry off. The collection name carries the benchmark's content hash and the embedder, so
an edited benchmark file or another embedder gets a new collection and a stale one is never used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from curation_tools.embed import Embedder
from curation_tools.progress import ProgressFn, no_progress


class BenchmarkVectors:
    def __init__(self, directory: Path, content_hash: str, embedder: Embedder, view: str = "text") -> None:
        import chromadb  # lazy: chromadb takes a second to import
        from chromadb.config import Settings

        directory.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(path=str(directory), settings=Settings(anonymized_telemetry=False))
        model = hashlib.blake2b(embedder.name.encode(), digest_size=4).hexdigest()
        self.name = f"bench-{content_hash[:24]}-{model}-{view}"
        self.embedder = embedder

    def _collection(self):
        return self._client.get_or_create_collection(
            self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def build(self, texts: list[str], progress: ProgressFn = no_progress) -> tuple[np.ndarray, bool]:
        """All item vectors in item order, and whether the stored index already held them all."""
        reused = self._collection().count() == len(texts)
        return self.vectors(texts, np.arange(len(texts)), progress), reused

    def vectors(self, texts: list[str], wanted: np.ndarray, progress: ProgressFn = no_progress) -> np.ndarray:
        """Vectors of the items `wanted` (indices into `texts`), in that order: stored ones are read back, the
        others embedded and stored, so the index grows to what scans have needed (an interrupted build resumes)."""
        collection = self._collection()
        vectors = np.zeros((len(wanted), self.embedder.dim), dtype=np.float32)
        if not len(wanted):
            return vectors
        stored = collection.get(ids=[str(i) for i in wanted.tolist()], include=["embeddings"])
        found = dict(zip((int(i) for i in stored["ids"]), stored["embeddings"], strict=True))
        position = {item: n for n, item in enumerate(wanted.tolist())}
        for item, vector in found.items():
            vectors[position[item]] = vector
        missing = np.array([item for item in wanted.tolist() if item not in found], dtype=np.int64)
        if len(missing):
            progress("embedding benchmark", 0, len(missing))
            new = np.asarray(self.embedder.embed([texts[i] for i in missing]), dtype=np.float32)
            step = self._client.get_max_batch_size()
            for start in range(0, len(missing), step):
                stop = min(start + step, len(missing))
                collection.add(ids=[str(i) for i in missing[start:stop]], embeddings=new[start:stop])
                progress("indexing benchmark", stop, len(missing))
            vectors[[position[i] for i in missing.tolist()]] = new
        return vectors

    def query(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items (indices, cosine similarities) for each query vector, from the HNSW index."""
        collection = self._client.get_collection(self.name, embedding_function=None)
        k = min(k, collection.count())
        result = collection.query(query_embeddings=vectors, n_results=k, include=["distances"])
        idx = np.asarray([[int(i) for i in row] for row in result["ids"]], dtype=np.int64).reshape(len(vectors), k)
        sim = 1.0 - np.asarray(result["distances"], dtype=np.float32).reshape(len(vectors), k)
        return idx, sim
