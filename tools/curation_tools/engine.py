"""Where the heavy stages run their units of work: `local` (this process, or worker processes on this machine;
the default) or `dask` (a Dask distributed cluster: one started on 127.0.0.1 for this process, or the scheduler
at an address).

A stage cuts its input into shards whose size does not depend on the engine and maps a module-level function
over them; results are put back in shard order. An engine changes where the work runs, not what it computes.
On Dask, text shards travel as Parquet files in a folder every worker can read (on a cluster: shared storage,
set with CURATE_ENGINE_SHARDS), and a large array is scattered to the workers once, not sent with each task.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from curation_tools.errors import UserInputError
from curation_tools.progress import ProgressFn, no_progress
from curation_tools.threads import usable_cpus

ENGINES = ("local", "dask")
DASK_INSTALL = "pip install 'dask[distributed]' (or the copilot's extra: pip install '.[dask]')"


@dataclass(frozen=True)
class TextShard:
    """Rows [start, start + count) of a stage's texts: read from the stage's texts as it runs (local), or from a
    Parquet file (dask). Pickled for a worker process, it carries its own rows' strings only."""

    start: int
    count: int
    inline: tuple[str, ...] | None = None
    path: str | None = None
    source: Sequence[str] | None = None

    def texts(self) -> list[str]:
        if self.inline is not None:
            return list(self.inline)
        if self.source is not None:
            return list(self.source[self.start : self.start + self.count])
        import pyarrow.parquet as pq

        return pq.read_table(self.path, columns=["text"]).column("text").to_pylist()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # pickled only as a worker is about to run it: a stage makes all its shards at once, and each copying its
        # strings when made would hold the whole input twice (1.8 GB of strings at 10M rows)
        inline = tuple(self.texts()) if self.source is not None else self.inline
        return TextShard, (self.start, self.count, inline, self.path)


class Engine(Protocol):
    name: str
    task_threads: int
    """threads one task may use (BLAS, OpenMP, ONNX Runtime pools)"""

    def shards(self, texts: Sequence[str], rows: int) -> Any:
        """A context manager giving the texts cut into shards of `rows` rows, removed on exit."""
        ...

    def map(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        *args: Any,
        stage: str,
        progress: ProgressFn = no_progress,
        processes: int = 1,
    ) -> Iterator[tuple[int, Any]]:
        """(position in `items`, fn(item, *args)) as each task finishes; `processes` is the local engine's
        worker-process count (1: in this process)."""
        ...

    def share(self, value: Any) -> Any:
        """`value` as an argument many tasks receive: itself here, a handle to one copy on a cluster."""
        ...

    def close(self) -> None: ...


class LocalEngine:
    name = "local"

    def __init__(self, threads: int) -> None:
        self.task_threads = threads

    @contextmanager
    def shards(self, texts: Sequence[str], rows: int) -> Iterator[list[TextShard]]:
        yield [TextShard(start, min(rows, len(texts) - start), source=texts) for start in range(0, len(texts), rows)]

    def map(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        *args: Any,
        stage: str,
        progress: ProgressFn = no_progress,
        processes: int = 1,
    ) -> Iterator[tuple[int, Any]]:
        if processes > 1 and len(items) > 1:
            yield from self._in_processes(fn, items, args, stage, progress, processes)
            return
        for position, item in enumerate(items):
            yield position, fn(item, *args)
            progress(stage, position + 1, len(items))

    @staticmethod
    def _in_processes(
        fn: Callable[..., Any], items: Sequence[Any], args: tuple, stage: str, progress: ProgressFn, processes: int
    ) -> Iterator[tuple[int, Any]]:
        # spawn, not fork: the parent may hold threads (rensa's and ONNX Runtime's pools) that fork would copy
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=processes, mp_context=spawn) as pool:
            futures = {pool.submit(fn, item, *args): position for position, item in enumerate(items)}
            done: set[int] = set()
            try:
                for future in as_completed(futures):
                    # popped, so a result is freed once the caller has it: holding every finished future held
                    # every result (14 GB of signatures and shingles at 10M rows)
                    position = futures.pop(future)
                    result = future.result()
                    del future
                    done.add(position)
                    yield position, result
                    del result
                    progress(stage, len(done), len(items))
            except BrokenProcessPool:
                # typically a script without the `if __name__ == "__main__":` guard that spawned workers need
                warnings.warn("worker processes failed to start; working in this process instead", stacklevel=3)
                for position, item in enumerate(items):
                    if position not in done:
                        yield position, fn(item, *args)
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise

    def share(self, value: Any) -> Any:
        return value

    def close(self) -> None:
        pass


class DaskEngine:
    """Tasks on a Dask distributed cluster: the scheduler at `address`, or a cluster of `workers` single-threaded
    worker processes started on 127.0.0.1 (every connection on loopback) and stopped with the engine."""

    name = "dask"

    def __init__(self, address: str | None, shard_root: Path, workers: int, timeout_s: float = 30) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UserInputError(f"--engine dask needs Dask's distributed scheduler: {DASK_INSTALL}") from None
        self._cluster = None
        if address:
            try:
                self.client = Client(address, timeout=f"{timeout_s}s")
            except OSError as error:
                raise UserInputError(f"Could not reach the Dask scheduler at {address}: {error}") from None
            except (ValueError, TypeError) as error:  # distributed's parse of a malformed address
                raise UserInputError(
                    f"{address!r} is not a Dask scheduler address ({error}). Give it as tcp://HOST:PORT "
                    f"(CURATE_DASK_ADDRESS)."
                ) from None
        else:
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=40,
            )
            self.client = Client(self._cluster)
        self.task_threads = max(1, min(self.client.nthreads().values(), default=1))
        shard_root.mkdir(parents=True, exist_ok=True)
        self._shard_root = shard_root

    @contextmanager
    def shards(self, texts: Sequence[str], rows: int) -> Iterator[list[TextShard]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        folder = Path(tempfile.mkdtemp(prefix="shards-", dir=self._shard_root))
        try:
            shards = []
            for number, start in enumerate(range(0, len(texts), rows)):
                path = folder / f"part-{number:05d}.parquet"
                chunk = list(texts[start : start + rows])
                pq.write_table(pa.table({"text": pa.array(chunk, type=pa.large_string())}), path)
                shards.append(TextShard(start, len(chunk), path=str(path)))
            yield shards
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def map(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        *args: Any,
        stage: str,
        progress: ProgressFn = no_progress,
        processes: int = 1,
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed as finished

        futures = [self.client.submit(fn, item, *args, pure=False) for item in items]
        position = {future.key: n for n, future in enumerate(futures)}
        try:
            for done, future in enumerate(finished(futures), start=1):
                yield position[future.key], future.result()
                progress(stage, done, len(items))
        finally:
            self.client.cancel(futures)

    def share(self, value: Any) -> Any:
        return self.client.scatter(value, broadcast=False, hash=False)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def in_order(results: Iterator[tuple[int, Any]], count: int) -> list[Any]:
    """A map's results in item order."""
    ordered: list[Any] = [None] * count
    for position, value in results:
        ordered[position] = value
    return ordered


_open: dict[tuple[str, str], Engine] = {}
_opening = threading.Lock()


def engine_for(spec: str, threads: int, cache_dir: Path) -> Engine:
    """The engine a spec names: 'local', 'dask' (a cluster on 127.0.0.1, started once per process and stopped at
    exit) or 'dask@ADDRESS' (an existing scheduler, e.g. tcp://10.0.0.5:8786)."""
    name, _, address = spec.partition("@")
    if name not in ENGINES:
        raise UserInputError(f"Unknown engine '{spec}'. Known: local, dask, dask@SCHEDULER_ADDRESS.")
    if name == "local":
        return LocalEngine(threads)
    key = (name, address)
    with _opening:  # a run's parallel steps share one cluster
        if key not in _open:
            shard_root = Path(os.environ.get("CURATE_ENGINE_SHARDS") or cache_dir / "engine-shards")
            # a cluster of this machine's cores, whatever share of them the first tool to ask was given
            _open[key] = DaskEngine(address or None, shard_root, workers=usable_cpus())
            atexit.register(close_engines)
        return _open[key]


def close_engines() -> None:
    """Stop the clusters this process started and disconnect from the others."""
    while _open:
        _, engine = _open.popitem()
        engine.close()
