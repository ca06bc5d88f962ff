"""Bad inputs end in exit 2 with one paragraph (or are handled correctly): never a traceback, never a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .conftest import EXAMPLE

TICKETS = pd.read_csv(EXAMPLE).head(60)

pytestmark = pytest.mark.slow  # real `curate` processes, one per case


def tickets(folder: Path, name: str = "d.csv") -> Path:
    path = folder / name
    TICKETS.to_csv(path, index=False)
    return path


def jsonl(folder: Path, name: str, records: list[dict]) -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def _dot_curate_is_a_file(folder: Path) -> list[str]:
    data = tickets(folder)
    (folder / ".curate").write_text("not a folder")
    findings = folder / "f.jsonl"
    findings.write_text("")
    return ["apply", str(data), str(findings)]


def _struct_label(folder: Path) -> list[str]:
    path = folder / "d.parquet"
    pq.write_table(pa.table({"text": TICKETS["text"], "label": [{"a": i % 3} for i in range(60)]}), path)
    return ["tools", "label-errors", str(path)]


def _long_field(folder: Path) -> list[str]:
    path = folder / "d.csv"
    path.write_text('text,label\n"' + "word " * 40_000 + '",a\nshort one,b\n')
    return ["tools", "profile", str(path)]


def _deep(folder: Path) -> list[str]:
    path = folder / "d.jsonl"
    path.write_text('{"text": ' + "[" * 100_000 + "]" * 100_000 + ', "label": "a"}\n')
    return ["tools", "profile", str(path)]


def _deep_findings(folder: Path) -> list[str]:
    findings = folder / "f.jsonl"
    findings.write_text('{"row_id": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    return ["apply", str(tickets(folder)), str(findings)]


def _empty_text(folder: Path, command: str) -> list[str]:
    path = folder / "d.csv"
    pd.DataFrame({"text": [""] * 40, "label": ["a", "b"] * 20}).to_csv(path, index=False)
    return {"label-errors": ["tools", "label-errors", str(path), "--text", "text"], "scan": ["scan", str(path)]}.get(
        command, ["run", str(path), "--policy", "approve-all", "--out", str(folder / "run")]
    )


CASES: dict[str, tuple[Callable[[Path], list[str]], int, str]] = {
    # name: (make the files and return the arguments, expected exit code, text expected in the output)
    "out under /proc": (lambda f: ["run", str(tickets(f)), "--out", "/proc/curate-out"], 2, "No such file"),
    "out under a file": (
        lambda f: ["run", str(tickets(f)), "--out", str(tickets(f, "x.csv") / "sub")],
        2,
        "Not a directory",
    ),
    "out is a file": (
        lambda f: ["run", str(tickets(f)), "--out", str(tickets(f, "x.csv"))],
        2,
        "is a file, not a folder",
    ),
    "workspace under a file": (
        lambda f: ["log", "--workspace", str(tickets(f) / "ws")],
        2,
        "not a curate workspace",
    ),
    ".curate beside the data is a file": (_dot_curate_is_a_file, 2, ".curate"),
    "export under /proc": (
        lambda f: (
            ["apply", str(tickets(f)), str(jsonl(f, "f.jsonl", []))]
            and ["export", str(tickets(f)), "--out", "/proc/x/out.csv"]
        ),
        2,
        "curate workspace",
    ),
    "cache dir unwritable": (lambda f: ["tools", "dedup", str(tickets(f)), "--method", "semantic"], 2, "/proc/cc"),
    "CSV field over 131,072 chars": (_long_field, 0, "2 rows"),
    "JSONL object label": (
        lambda f: [
            "tools",
            "label-errors",
            str(jsonl(f, "d.jsonl", [{"text": t, "label": {"a": i % 3}} for i, t in enumerate(TICKETS["text"])])),
        ],
        2,
        "holds JSON objects",
    ),
    "Parquet struct label": (_struct_label, 2, "holds JSON objects"),
    "JSONL object text": (
        lambda f: [
            "tools",
            "dedup",
            str(jsonl(f, "d.jsonl", [{"text": {"t": t}, "label": "xy"[i % 2]} for i, t in enumerate(TICKETS["text"])])),
            "--text",
            "text",
        ],
        0,
        "dedup",
    ),
    "all-empty text: label-errors": (lambda f: _empty_text(f, "label-errors"), 2, "empty in every row"),
    "all-empty text: scan": (lambda f: _empty_text(f, "scan"), 0, "skipped"),
    "all-empty text: run": (lambda f: _empty_text(f, "run"), 0, "could not run"),
    "JSON nested 100,000 deep in data": (_deep, 2, "too deeply"),
    "JSON nested 100,000 deep in findings": (_deep_findings, 2, "not valid JSON"),
    "FIFO named x.csv": (lambda f: ["tools", "profile", str(_fifo(f, "x.csv"))], 2, "not a regular file"),
    "FIFO as benchmark": (
        lambda f: ["run", str(tickets(f)), "--benchmark", str(_fifo(f, "b.jsonl")), "--out", str(f / "r")],
        2,
        "not a regular file",
    ),
    "FIFO as policy": (
        lambda f: ["run", str(tickets(f)), "--policy", str(_fifo(f, "p.yaml")), "--out", str(f / "r")],
        2,
        "policy",
    ),
    "FIFO as recipe": (
        lambda f: ["run", str(tickets(f)), "--recipe", str(_fifo(f, "r.yaml")), "--out", str(f / "r")],
        2,
        "recipe",
    ),
    "folder as data": (lambda f: ["scan", str(f)], 2, "is a folder"),
    "NUL bytes in a CSV": (
        lambda f: ["tools", "profile", str(f / "d.csv")] if (f / "d.csv").write_bytes(b"text\na\x00b\n") else [],
        0,
        "1 rows",
    ),
    "corrupt Parquet": (
        lambda f: ["scan", str(f / "d.parquet")] if (f / "d.parquet").write_bytes(b"PAR1garbagePAR1") else [],
        2,
        "not a readable Parquet file",
    ),
    "benchmark field missing": (
        lambda f: [
            "run",
            str(tickets(f)),
            "--benchmark",
            f"{jsonl(f, 'b.jsonl', [{'q': 'x'}])}:nope",
            "--out",
            str(f / "r"),
        ],
        2,
        "no column",
    ),
    "id column with a gap": (
        lambda f: ["scan", str(f / "d.csv"), "--id", "id"] if (f / "d.csv").write_text("id,text\n1,a\n,b\n") else [],
        2,
        "empty at row",
    ),
    "one-row data set run": (
        lambda f: (
            ["run", str(f / "d.csv"), "--policy", "approve-all", "--out", str(f / "r")]
            if (f / "d.csv").write_text("text,label\nonly row,a\n")
            else []
        ),
        2,
        "single class",
    ),
    "zero-width characters hiding an exact duplicate": (
        lambda f: [
            "tools",
            "dedup",
            str(
                jsonl(
                    f,
                    "d.jsonl",
                    [
                        {"text": "my card has not arrived yet", "label": "a"},
                        {"text": "my card has\u200b not arri\u200dved yet\ufeff", "label": "a"},
                        {"text": "how do i change my pin", "label": "b"},
                    ],
                )
            ),
            "--method",
            "exact",
        ],
        0,
        "1 exact_duplicate",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, tmp_path):
    make, code, expected = CASES[name]
    args = make(tmp_path)
    env = {**os.environ, "COLUMNS": "200", "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    if name == "cache dir unwritable":
        env["CURATE_CACHE_DIR"] = "/proc/cc"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "copilot.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: hung")
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output[-3000:]
    assert done.returncode == code, (done.returncode, output[-2000:])
    assert expected in output, output[-2000:]
