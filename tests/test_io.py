"""Dataset I/O: formats, role inference, and every bad-input case (message and exit code 2)."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from curation_tools.errors import UserInputError
from curation_tools.io import load_dataset, write_table
from curation_tools.roles import RoleOverrides

from .conftest import EXAMPLE


def write(path, text: str | bytes):
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "text": ["the card arrived late", "how do I change my pin", "pin change please", "my card is lost"],
            "label": ["card", "pin", "pin", "card"],
        }
    )


@pytest.mark.parametrize("name", ["d.csv", "d.tsv", "d.jsonl", "d.jsonl.gz", "d.csv.gz", "d.parquet"])
def test_every_format_round_trips_with_inferred_roles(tmp_path, frame, name):
    path = tmp_path / name
    write_table(frame, path)
    data, notes = load_dataset(path)
    assert data.roles.id == "id" and data.roles.text == ["text"] and data.roles.label == "label"
    assert data.row_ids == ["a", "b", "c", "d"]
    assert list(data.texts()) == list(frame["text"])
    assert any("label = 'label'" in n for n in notes)


def test_generated_ids_are_row_positions(tmp_path, frame):
    path = write_table(frame.drop(columns="id"), tmp_path / "d.csv") or tmp_path / "d.csv"
    data, _ = load_dataset(path)
    assert data.ids_generated and data.row_ids == ["0", "1", "2", "3"]


def test_flags_override_inference(tmp_path, frame):
    path = tmp_path / "d.csv"
    write_table(frame.assign(topic=["x", "y", "y", "x"]), path)
    data, notes = load_dataset(path, RoleOverrides(id="none", label="topic"))
    assert data.roles.id is None and data.roles.label == "topic"
    assert data.row_ids[0] == "0"
    assert "label = 'topic' (from --label)" in notes


def test_instruction_and_chat_layouts(tmp_path):
    rows = [{"instruction": "add", "input": "1 2", "output": "3"}, {"instruction": "neg", "input": "4", "output": "-4"}]
    path = write(tmp_path / "i.jsonl", "\n".join(json.dumps(r) for r in rows))
    data, _ = load_dataset(path)
    assert data.roles.text == ["instruction", "input", "output"]
    assert data.texts().iloc[0] == "add\n1 2\n3"
    chat = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}] * 2
    data, _ = load_dataset(write(tmp_path / "c.jsonl", "\n".join(json.dumps(r) for r in chat)))
    assert data.roles.text == ["messages"]
    assert data.texts().iloc[0] == "user: hi\nassistant: hello"


def test_tabular_features_inferred(tmp_path):
    frame = pd.DataFrame({"age": [30, 40, 50], "city": ["a", "b", "a"], "target": [0, 1, 0]})
    data, _ = load_dataset(write_table(frame, tmp_path / "t.csv") or tmp_path / "t.csv")
    assert data.roles.text == [] and data.roles.label == "target" and data.roles.features == ["age", "city"]


def test_split_inferred(tmp_path, frame):
    path = tmp_path / "s.csv"
    write_table(frame.assign(split=["train", "train", "test", "test"]), path)
    assert load_dataset(path)[0].roles.split == "split"


BAD_INPUTS = [
    ("missing file", "absent.csv", None, None, "no such file"),
    ("unknown extension", "data.xlsx", "a,b\n1,2\n", None, "unknown file type '.xlsx'"),
    ("undecodable bytes", "data.csv", b"text,label\nok,a\ncaf\xe9,b\n", None, "line 3, column 4 are not valid UTF-8"),
    (
        "ragged csv row",
        "data.csv",
        "text,label\nok,a\ntoo,many,fields\n",
        None,
        "line 3 has 3 fields but the header has 2",
    ),
    ("empty csv", "data.csv", "", None, "the file is empty"),
    ("empty jsonl", "data.jsonl", "\n\n", None, "the file is empty"),
    ("header only", "data.csv", "text,label\n", None, "has a header (text, label) but no rows"),
    ("bad json line", "data.jsonl", '{"text": "a"}\n{"text": \n', None, "line 2, column 10 is not valid JSON"),
    ("json not object", "data.jsonl", "[1, 2]\n", None, "line 1 holds a JSON list, not an object"),
    (
        "missing label column",
        "data.csv",
        "text,label\nhello there,a\nbye now,b\n",
        RoleOverrides(label="lable"),
        "--label names a column 'lable' that is not in the data (columns: text, label). Did you mean 'label'?",
    ),
    (
        "ambiguous label",
        "data.csv",
        "text,label,class\nhello there,a,x\nbye now,b,x\nok then,b,y\n",
        None,
        "The label column is ambiguous: 'label' and 'class'",
    ),
    (
        "ambiguous text",
        "data.csv",
        "a,b\nthe first long free text here,another long free text value\n"
        "second long free text here,more free text that is long\n",
        None,
        "The text column is ambiguous",
    ),
    (
        "duplicate ids",
        "data.csv",
        "key,text,label\nk1,a,x\nk1,b,y\nk2,c,y\n",
        RoleOverrides(id="key"),
        "the id column 'key' has 1 repeated value(s) ('k1' x2",
    ),
    (
        "single class",
        "data.csv",
        "text,label\nhello there,spam\nbye now,spam\n",
        None,
        "The label column 'label' has a single class ('spam')",
    ),
]


@pytest.mark.parametrize(
    ("case", "name", "content", "overrides", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_a_clear_user_error(tmp_path, case, name, content, overrides, message):
    path = tmp_path / name
    if content is not None:
        write(path, content)
    with pytest.raises(UserInputError) as error:
        load_dataset(path, overrides)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("case", "name", "content", "overrides", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_exits_2_without_traceback(cli, tmp_path, case, name, content, overrides, message):
    path = tmp_path / name
    if content is not None:
        write(path, content)
    flags = []
    for role, value in (overrides.model_dump(exclude_none=True) if overrides else {}).items():
        flags += [f"--{role}", value]
    result = cli("tools", "profile", path, *flags)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "error:" in result.stderr and message.split("(")[0].strip()[:30] in " ".join(result.stderr.split())


def test_missing_role_for_a_tool_is_explained(tmp_path):
    path = write(tmp_path / "d.csv", "text\nhello there\nbye now\n")
    data, _ = load_dataset(path)
    with pytest.raises(UserInputError, match="needs a label column, and none was found"):
        data.require(["label"], "label-errors")


def test_gz_that_is_not_gzip(tmp_path):
    with pytest.raises(UserInputError, match="not a valid gzip file"):
        load_dataset(write(tmp_path / "d.jsonl.gz", b"plain text"))
    good = tmp_path / "ok.jsonl.gz"
    good.write_bytes(gzip.compress(b'{"text": "a b c", "label": 1}\n{"text": "d e", "label": 2}\n'))
    assert len(load_dataset(good)[0]) == 2


def _semicolon_sheet(path, rows=40):
    """A spreadsheet's CSV in a `;` locale: BOM, CRLF, decimal commas, commas inside the text."""
    texts = pd.read_csv(EXAMPLE)["text"].str.replace(";", " ").head(rows).tolist()
    lines = ["id;text;amount;label"] + [
        f"r{i};{t.replace(chr(34), '')}, right?;{i},5;{'pin' if i % 2 else 'card'}" for i, t in enumerate(texts)
    ]
    return write(path, b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")


def test_a_semicolon_csv_with_a_bom_profiles_as_its_real_columns(tmp_path):
    data, _ = load_dataset(_semicolon_sheet(tmp_path / "sheet.csv"))
    assert list(data.frame.columns) == ["id", "text", "amount", "label"]
    assert data.source.sep == ";" and data.roles.label == "label"
    assert data.frame["amount"].tolist()[:3] == [0.5, 1.5, 2.5]  # decimal commas read as numbers
    assert data.frame.loc["r1", "text"].endswith(", right?")


def test_a_semicolon_csv_exports_with_its_separator_bom_and_line_ends(cli, tmp_path):
    path = _semicolon_sheet(tmp_path / "sheet.csv")
    findings = tmp_path / "f.jsonl"
    copy = path.read_bytes().split(b"\r\n")[2].replace(b"r1;", b"r99;", 1) + b"\r\n"  # row r1 again
    original = path.read_bytes()
    write(path, original + copy)
    assert cli("tools", "dedup", path, "--out", findings).code == 0
    assert cli("apply", path, findings).code == 0
    assert cli("export", path, "--out", tmp_path / "out.csv").code == 0
    out = (tmp_path / "out.csv").read_bytes()
    assert out == original  # the copy dropped; every other byte as written


def test_sep_overrides_the_sniffed_separator_and_a_wrong_one_says_which_to_pass(cli, tmp_path):
    path = _semicolon_sheet(tmp_path / "sheet.csv")
    forced = cli("tools", "profile", path, "--sep", ",")
    assert forced.code == 2 and "pass --sep ';'" in forced.stderr
    assert cli("tools", "profile", path, "--sep", "semicolon").code == 0
    assert "give one of" in cli("tools", "profile", path, "--sep", "::").stderr


def test_label_flag_suggests_label_like_columns(cli, tmp_path):
    path = write(
        tmp_path / "d.jsonl", "".join(json.dumps({"text": f"t {i}", "label": i % 3}) + "\n" for i in range(30))
    )
    result = cli("tools", "profile", path, "--label", "intent")
    assert result.code == 2 and "look like a label: 'label'" in result.stderr and "'text'" not in result.stderr
