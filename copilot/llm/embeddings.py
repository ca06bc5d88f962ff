"""Embeddings from an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

Registered as the ``openai`` embedder plug-in: ``--embedder openai`` or ``openai:MODEL``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from copilot.core.config import Settings
from copilot.llm.connection import openai_client
from curation_tools.errors import UserInputError

BATCH = 256


class OpenAIEmbedder:
    def __init__(self, model: str = "", settings: Settings | None = None) -> None:
        settings = settings or Settings()
        if not settings.llm_configured:
            raise UserInputError(
                "--embedder openai needs an endpoint: set OPENAI_API_KEY (and OPENAI_BASE_URL for a "
                "non-OpenAI server such as vLLM, Ollama or llama.cpp)."
            )
        self.model = model or settings.embedding_model
        self._client = openai_client(settings)
        self.name = f"openai:{self.model}@{settings.base_url or 'api.openai.com'}"
        self.dim = 0  # known after the first call

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), BATCH):
            response = self._client.embeddings.create(model=self.model, input=list(texts[start : start + BATCH]))
            chunks.append(
                np.array([d.embedding for d in sorted(response.data, key=lambda d: d.index)], dtype=np.float32)
            )
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.vstack(chunks)
        self.dim = vectors.shape[1]
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
