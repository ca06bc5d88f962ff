"""Texts held as one Arrow column (large data): the same strings as a list, a worker sent only its own rows."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.engine import LocalEngine
from curation_tools.text_column import TextColumn, take

from .conftest import EXAMPLE


def test_a_column_reads_as_the_list_it_holds():
    texts = ["a", "", "ünïcode", "d" * 300, "e"]
    column = TextColumn.of(texts)
    assert len(column) == 5 and list(column) == texts
    assert column[2] == "ünïcode" and column[-1] == "e" and column[1:4] == texts[1:4] and column[::2] == texts[::2]
    assert column.take(np.array([4, 0, 4])) == ["e", "a", "e"] == take(texts, [4, 0, 4])
    assert list(column.followed_by(["ref"])) == [*texts, "ref"] and column.followed_by([]) is column
    with pytest.raises(IndexError):
        column[5]


def test_a_column_of_an_arrow_backed_frame_shares_its_buffers():
    frame = pd.DataFrame({"text": pd.array(["x" * 50] * 1000, dtype="string[pyarrow]")})
    data = Dataset(frame, Roles(text=["text"]), DataSource(path="t.parquet", format="parquet"))
    column = data.text_column()
    stored = pa.chunked_array(pa.array(frame["text"])).chunks[0].buffers()[2]
    assert column._chunks.chunks[0].buffers()[2].address == stored.address


def test_missing_texts_are_empty_and_other_values_are_rendered():
    with_missing = pd.DataFrame({"text": pd.array(["a", None, "c"], dtype="str")})
    numbers = pd.DataFrame({"text": [1, 2]})
    source = DataSource(path="t.csv", format="csv")
    assert Dataset(with_missing, Roles(text=["text"]), source).text_column()[:] == ["a", "", "c"]
    assert Dataset(numbers, Roles(text=["text"]), source).text_column()[:] == ["1", "2"]
    with pytest.raises(ValueError, match="no missing values"):
        TextColumn.of(pd.Series(["a", None], dtype="str"))


def test_a_shard_sent_to_a_worker_carries_its_own_rows_only():
    column = TextColumn.of([f"row {n} " + "x" * 100 for n in range(20_000)])
    with LocalEngine(threads=1).shards(column, 1_000) as shards:
        assert len(shards) == 20 and shards[3].texts() == column[3_000:4_000]
        sent = pickle.loads(pickle.dumps(shards[3]))
        assert sent.start == 3_000 and sent.texts() == column[3_000:4_000]
        assert len(pickle.dumps(shards[3])) < 200_000  # the column is 2.2 MB


def test_words_are_counted_as_str_split_counts_them():
    every_space = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    texts = ["a b  c", "", "  ", " a ", "x\u00a0y", "ünï code", "a\u2028b\u2029c\u3000d\x0be\x0cf", every_space]
    texts += [f"a{every_space}b", *pd.read_csv(EXAMPLE)["text"].astype(str)]
    assert TextColumn.of(texts).word_counts().tolist() == [len(t.split()) for t in texts]
