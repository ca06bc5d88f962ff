"""The `curate` CLI end to end: tools, scan, apply, log, diff, explain, undo, redo, export."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from curation_tools.schema import Action, Evidence, Finding

from .conftest import EXAMPLE


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, path)
    return path


def test_tools_list(cli):
    result = cli("tools", "list")
    assert result.code == 0 and "profile" in result.stdout
    specs = json.loads(cli("tools", "list", "--json").stdout)
    profile = next(s for s in specs if s["name"] == "profile")
    assert profile["params"]["properties"]["top_labels"]["default"] == 20


def test_tool_profile_writes_report_and_summary(cli, example, tmp_path):
    out = tmp_path / "profile.json"
    result = cli("tools", "profile", example, "--out", out, "--top-labels", "3")
    assert result.code == 0
    report = json.loads(out.read_text())
    assert report["n_rows"] == 512 and report["labels"]["n_classes"] == 8
    assert len(report["labels"]["counts"]) == 3
    assert report["duplicates"]["redundant_rows"] >= 12
    assert "id = 'ticket_id'" in result.stderr and "profile:" in result.stderr


def test_tool_option_validation(cli, example):
    result = cli("tools", "profile", example, "--top-labels", "0")
    assert result.code == 2 and "--top-labels: Input should be greater than or equal to 1" in result.stderr


def test_scan_shows_one_screen_summary(cli, example, tmp_path):
    result = cli("scan", example, "--out", tmp_path / "scan")
    assert result.code == 0
    assert "curate scan: tickets.csv" in result.stdout and "8 classes" in result.stdout
    assert (tmp_path / "scan" / "profile.json").exists()
    assert len(result.stdout.splitlines()) <= 24


def findings_file(path, rows):
    records = [
        Finding(
            row_id="D000",
            issue="near_duplicate",
            score=0.97,
            action=Action(type="drop"),
            evidence=Evidence(duplicate_of=rows["D000"]),
        ).to_record(),
        Finding(
            row_id="T0005",
            issue="label_error",
            score=0.8,
            action=Action(type="relabel", new_label="age_limit"),
            evidence=Evidence(given_label="x", suggested_label="age_limit"),
        ).to_record(),
        Finding(row_id="T0006", issue="label_error", score=0.3, action=Action(type="flag")).to_record(),
    ]
    stamp = {"data_sha256": hashlib.sha256(EXAMPLE.read_bytes()).hexdigest(), "row_ids": "column:ticket_id"}
    path.write_text("".join(json.dumps({"tool": "hand", **r, **stamp}) + "\n" for r in records))
    return path


@pytest.mark.parametrize(
    ("option", "ids", "message"),
    [
        ("--reject", "T006", "--reject: 1 row id(s) have no finding in this file: 'T006' (did you mean 'T0006'"),
        ("--only", "99999999", "--only: 1 row id(s) have no finding in this file: '99999999'. Nothing was applied."),
    ],
)
def test_apply_refuses_row_ids_that_have_no_finding(cli, example, tmp_path, option, ids, message):
    """`--reject T267` (meant T0267) used to approve everything, and `--only 99999999` to reject everything."""
    truth = json.loads(EXAMPLE.with_name("support_tickets.truth.json").read_text())
    findings = findings_file(tmp_path / "f.jsonl", truth["duplicates"])
    result = cli("apply", example, findings, option, ids)
    assert result.code == 2 and message in result.stderr, result.stderr
    log = cli("log", example).stdout
    assert "v1 (current)" in log and "v2" not in log


def test_apply_log_diff_explain_undo_redo_export(cli, example, tmp_path):
    truth = json.loads(EXAMPLE.with_name("support_tickets.truth.json").read_text())
    findings = findings_file(tmp_path / "f.jsonl", truth["duplicates"])
    result = cli("apply", example, findings, "--reject", "T0006", "--by", "alice", "--reason", "reviewed")
    assert result.code == 0 and "2 edits, v1 -> v2, 1 rejected" in result.stderr

    log = cli("log", example)
    assert "v2 (current)" in log.stdout and "alice" in log.stdout and "reviewed" in log.stdout

    diff = json.loads(cli("diff", example, "--json").stdout)
    assert diff["removed"] == ["D000"]
    assert [(c["row_id"], c["new"]) for c in diff["changed"]] == [("T0005", "age_limit")]

    explained = json.loads(cli("explain", "D000", example, "--json").stdout)
    assert (
        not explained["present"] and explained["events"][0]["evidence"]["duplicate_of"] == truth["duplicates"]["D000"]
    )

    out = tmp_path / "curated.jsonl"
    assert cli("export", example, "--out", out).code == 0
    exported = pd.read_json(out, lines=True)
    assert len(exported) == 511 and "D000" not in set(exported["ticket_id"])
    assert exported.set_index("ticket_id").at["T0005", "intent"] == "age_limit"

    assert "Undid decision #1" in cli("undo", example).stderr
    assert cli("export", example, "--out", out).code == 0
    assert len(pd.read_json(out, lines=True)) == 512
    assert "Redid decision #1" in cli("redo", example).stderr
    default = cli("export", example)
    assert default.code == 0 and (tmp_path / "tickets.curated.csv").exists()
    assert EXAMPLE.read_bytes() == example.read_bytes()  # the input is never modified


def test_ledger_commands_without_workspace(cli, example):
    result = cli("log", example)
    assert result.code == 2 and "is not a curate workspace" in result.stderr
    assert cli("undo").code == 2


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("tools", "--help"),
        ("tools", "dedup", "--help"),
        ("tools", "label-errors", "--help"),
        ("log", "--help"),
    ],
)
def test_help_everywhere(cli, args):
    result = cli(*args)
    assert result.code == 0 and "Usage:" in result.stdout and "Traceback" not in result.stderr


def test_version(cli):
    assert cli("--version").stdout.startswith("curate ")


def test_help_loads_no_ui_langgraph_scikit_learn_or_scipy():
    """`curate --help` (and so every command's start-up) imports none of the heavy layers."""
    probe = (
        "import sys\n"
        "sys.argv = ['curate', '--help']\n"
        "from copilot.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'textual', 'langgraph', 'sklearn', 'scipy', 'cleanlab', 'onnxruntime', 'chromadb'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-500:]
