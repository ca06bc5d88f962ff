"""A dataset's texts as one Arrow string column: a stage reads Python strings only for the rows it is working on.

Ten million short texts as Python strings cost about 50 bytes a row beyond their characters (1.8 GB at 10M rows,
on top of the table they were read from); held as the table's own Arrow column they cost nothing more. A stage
takes slices (lists of strings), single rows, or `take(rows)`; a worker process is sent only its shard's strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np
import pandas as pd
import pyarrow as pa

ITER_ROWS = 65_536  # rows turned into Python strings at a time when iterating
WORD = r"[^\s\p{Z}\x0b\x1c-\x1f\x85]+"
"""a run of characters Python's `str.split()` does not split on (RE2's \\s is ASCII; the rest of Python's
whitespace is Unicode's separators and these controls)"""


class TextColumn(Sequence[str]):
    """Read-only texts over Arrow string chunks (the loaded table's buffers where they are Arrow already)."""

    def __init__(self, chunks: pa.ChunkedArray) -> None:
        self._chunks = chunks

    @classmethod
    def of(cls, texts: pd.Series | Sequence[str]) -> TextColumn:
        """The texts as a column: a pandas Arrow-backed string Series without copying; anything else copied once."""
        if isinstance(texts, TextColumn):
            return texts
        if isinstance(texts, pd.Series):
            # its array, not the Series: looking up `__arrow_array__` on a Series searches its index for that
            # name, which builds and keeps a hash table of every row id as a Python object
            values = pa.array(texts.array, from_pandas=True)
        else:
            values = pa.array(texts, type=pa.large_string())
        chunks = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
        if not (pa.types.is_string(chunks.type) or pa.types.is_large_string(chunks.type)):
            raise TypeError(f"a text column holds strings, not {chunks.type}")
        if chunks.null_count:
            raise ValueError("a text column holds no missing values (render them as empty texts first)")
        return cls(chunks)

    def __len__(self) -> int:
        return len(self._chunks)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._chunks.slice(start, max(stop - start, 0)).to_pylist()
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(f"row {index} of a column of {len(self)}")
        return self._chunks[position].as_py()

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), ITER_ROWS):
            yield from self[start : start + ITER_ROWS]

    def take(self, rows: np.ndarray | Sequence[int]) -> list[str]:
        """The texts of `rows`, in their order."""
        texts = self._chunks.take(pa.array(np.asarray(rows, dtype=np.int64))).to_pylist()
        pa.default_memory_pool().release_unused()  # the taken copy's pages: Arrow's allocator would keep them
        return texts

    def word_counts(self) -> np.ndarray:
        """Each text's words as `str.split()` counts them, counted by Arrow's regular expressions (a Python list of
        every row's words was 3 GB at 2M short rows)."""
        import pyarrow.compute as pc

        counts = pc.count_substring_regex(self._chunks, pattern=WORD)
        return np.asarray(counts.to_numpy(), dtype=np.int64)

    def followed_by(self, more: Sequence[str]) -> TextColumn:
        """These texts, then `more` (e.g. reference rows after a dataset's own)."""
        if not len(more):
            return self
        extra = TextColumn.of(more)._chunks.cast(self._chunks.type)
        return TextColumn(pa.chunked_array([*self._chunks.chunks, *extra.chunks], type=self._chunks.type))


def take(texts: Sequence[str], rows: np.ndarray | Sequence[int]) -> list[str]:
    """The texts of `rows` from a column or a list."""
    if isinstance(texts, TextColumn):
        return texts.take(rows)
    return [texts[int(r)] for r in rows]
