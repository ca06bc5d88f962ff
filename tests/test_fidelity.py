"""Cell fidelity: load -> approve nothing or some drops -> export leaves every untouched cell as it was.

CSV/TSV cells keep their text, JSONL rows their bytes, Parquet its Arrow types and values; header names
and order are kept, written files get the user's umask, and row ids are the id column's text.
"""

from __future__ import annotations

import csv
import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot.core.decisions import Decision
from copilot.ledger import Ledger
from curation_tools.errors import UserInputError
from curation_tools.io import load_dataset
from curation_tools.roles import RoleOverrides
from curation_tools.schema import Action, Finding, Proposal

TRICKY_CELLS = [
    "00501",
    "1.50",
    "TRUE",
    "true",
    "NA",
    "null",
    "nan",
    "N/A",
    "-0",
    "1e5",
    " 7 ",
    "007",
    "0x1F",
    "12345678901234567890",
    "123456789012345678901234567890",
    "2024-01-02",
    "ä\u200bb",
    "a,b",
    'say "hi"',
    "line\nbreak",
    "[/]",
    "",
]
cell = st.one_of(st.sampled_from(TRICKY_CELLS), st.text(max_size=12))
column_name = st.text(alphabet="abcxyz_ 0123[]/", min_size=1, max_size=6)
FIDELITY = settings(
    max_examples=int(os.environ.get("FIDELITY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def drop_some(ledger: Ledger, mask: list[bool]) -> set[int]:
    """Approve drops of the masked rows (positional ids); returns the dropped positions."""
    dropped = {i for i, m in enumerate(mask) if m}
    findings = [Finding(row_id=str(i), issue="test", score=1.0, action=Action(type="drop")) for i in sorted(dropped)]
    if findings:
        proposal = Proposal(tool="test", tool_version="0", summary="drops", findings=findings)
        ledger.apply(proposal, Decision.uniform(proposal, approve=True, decided_by="test"))
    return dropped


def curate_file(tmp_path, path, mask) -> tuple[Ledger, set[int], os.PathLike]:
    try:
        data, _ = load_dataset(path, RoleOverrides(id="none"))
    except UserInputError:  # a file curate refuses with a clear message is not a fidelity case
        return None, set(), None
    ledger = Ledger.open_or_create(tmp_path / f"ws-{path.name}", data)
    dropped = drop_some(ledger, mask[: len(data)])
    out = tmp_path / f"out-{path.name}"
    ledger.export(out)
    return ledger, dropped, out


@pytest.mark.parametrize("sep, suffix", [(",", ".csv"), ("\t", ".tsv")])
@given(data=st.data())
@FIDELITY
def test_csv_cells_keep_their_text(tmp_path_factory, record_property, sep, suffix, data):
    record_property("cases", 1)  # one generated file
    tmp_path = tmp_path_factory.mktemp("csv")
    header = data.draw(st.lists(column_name, min_size=2, max_size=4, unique=True))
    rows = data.draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), min_size=1, max_size=12))
    rows = [r for r in rows if any(c.strip() for c in r)] or [["x"] * len(header)]  # blank lines are not rows
    mask = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep)  # "\r\n" endings: a lone "\r" in a cell is quoted
    writer.writerows([header, *rows])
    path = tmp_path / f"d{suffix}"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    ledger, dropped, out = curate_file(tmp_path, path, mask)
    if ledger is None:
        return
    back = list(csv.reader(io.StringIO(out.read_bytes().decode(), newline=""), delimiter=sep))
    assert back[0] == header
    assert back[1:] == [r for i, r in enumerate(rows) if i not in dropped]


json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**25), max_value=10**25)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(TRICKY_CELLS),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=5,
)


@given(data=st.data())
@FIDELITY
def test_jsonl_rows_keep_their_bytes(tmp_path_factory, record_property, data):
    record_property("cases", 1)
    tmp_path = tmp_path_factory.mktemp("jsonl")
    keys = data.draw(st.lists(column_name, min_size=1, max_size=4, unique=True))
    records = data.draw(
        st.lists(st.fixed_dictionaries({}, optional={k: json_value for k in keys}), min_size=1, max_size=10)
    )
    records = [r for r in records if r] or [{keys[0]: 1}]
    mask = data.draw(st.lists(st.booleans(), min_size=len(records), max_size=len(records)))
    lines = [json.dumps(r, ensure_ascii=data.draw(st.booleans())) for r in records]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    ledger, dropped, out = curate_file(tmp_path, path, mask)
    if ledger is None:
        return
    assert out.read_bytes().decode().split("\n")[:-1] == [line for i, line in enumerate(lines) if i not in dropped]


parquet_column = st.sampled_from(["int_nulls", "int32", "big_uint", "string", "float", "bool", "date", "list"])


def arrow_column(kind: str, n: int, draw) -> pa.Array:
    maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
    values = {
        "int_nulls": (maybe(st.integers(-(2**63), 2**63 - 1)), pa.int64()),
        "int32": (st.integers(-(2**31), 2**31 - 1), pa.int32()),
        "big_uint": (st.integers(2**63, 2**64 - 1), pa.uint64()),
        "string": (maybe(st.sampled_from(TRICKY_CELLS) | st.text(max_size=5)), pa.string()),
        "float": (maybe(st.floats(allow_nan=False)), pa.float64()),
        "bool": (maybe(st.booleans()), pa.bool_()),
        "date": (st.dates(), pa.date32()),
        "list": (st.lists(st.integers(0, 9), max_size=3), pa.list_(pa.int16())),
    }[kind]
    return pa.array(draw(st.lists(values[0], min_size=n, max_size=n)), type=values[1])


@given(data=st.data())
@FIDELITY
def test_parquet_keeps_arrow_types_and_values(tmp_path_factory, record_property, data):
    record_property("cases", 1)
    tmp_path = tmp_path_factory.mktemp("parquet")
    kinds = data.draw(st.lists(parquet_column, min_size=1, max_size=4))
    n = data.draw(st.integers(1, 10))
    table = pa.table({f"c{i}_{k}": arrow_column(k, n, data.draw) for i, k in enumerate(kinds)})
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    mask = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    ledger, dropped, out = curate_file(tmp_path, path, mask)
    if ledger is None:
        return
    back = pq.read_table(out)
    expected = table.take(pa.array([i for i in range(n) if i not in dropped], type=pa.int64()))
    assert back.schema.remove_metadata() == expected.schema.remove_metadata()
    assert back.to_pylist() == expected.to_pylist()


def test_csv_ids_are_the_id_columns_text_and_files_get_the_umask(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,text,label\n007,alpha,a\n7,beta,b\n0007,gamma,a\n00002,delta,b\n")
    data, _ = load_dataset(path)
    assert data.row_ids == ["007", "7", "0007", "00002"]
    ledger = Ledger.open_or_create(tmp_path / "ws", data)
    old = os.umask(0o027)
    try:
        ledger.export(tmp_path / "out.csv")
    finally:
        os.umask(old)
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "out.csv").read_text() == path.read_text()


def test_a_relabel_changes_that_cell_only(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,zip,price,flag,text,label\n00002,00501,1.50,TRUE,alpha,1\n00003,00502,2.00,FALSE,beta,0\n")
    data, _ = load_dataset(path, RoleOverrides(label="label"))
    ledger = Ledger.open_or_create(tmp_path / "ws", data)
    finding = Finding(row_id="00002", issue="label_error", score=0.9, action=Action(type="relabel", new_label=0))
    proposal = Proposal(tool="test", tool_version="0", summary="relabel", findings=[finding])
    ledger.apply(proposal, Decision.uniform(proposal, approve=True, decided_by="test"))
    ledger.export(tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "id,zip,price,flag,text,label",
        "00002,00501,1.50,TRUE,alpha,0",
        "00003,00502,2.00,FALSE,beta,0",
    ]


def test_repeated_header_is_refused_not_renamed(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,text,label\na,b,c\n")
    with pytest.raises(UserInputError, match="more than once"):
        load_dataset(path)
