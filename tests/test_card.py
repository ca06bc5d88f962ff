"""`curate card`: a dataset card from the ledger. Every number in it is checked against the ledger's own tables,
read here with plain SQL (not through the card's code)."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections import Counter

import pytest
import yaml

from .test_run import BENCH, EXAMPLE


def _sql(workspace, query, *args):
    with sqlite3.connect(workspace / "ledger.sqlite") as db:
        return db.execute(query, args).fetchall()


def _table(card: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header line starts with `header`."""
    lines = card.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([_plain(cell.strip()) for cell in line.strip("|").split(" | ")])
    return rows


def _plain(cell: str) -> str:
    """A cell as the rendered page shows it: the card escapes untrusted text for Markdown (copilot.core.markdown.md)."""
    if cell.startswith("`") and cell.endswith("`"):  # a code span: literal but for its fences and `\|`
        return cell.strip("`").strip().replace("\\|", "|")
    return re.sub(r"\\(.)", r"\1", cell)


def _check_card(card: str, workspace) -> dict:
    head_yaml = yaml.safe_load(card.split("---")[1])["curation"]
    versions = _sql(workspace, "SELECT version_id, parent_id, n_rows FROM versions ORDER BY version_id")
    head = _sql(workspace, "SELECT version_after FROM operations ORDER BY op_id DESC LIMIT 1")[0][0]
    rows_of = {v: n for v, _, n in versions}
    assert head_yaml["rows_in"] == rows_of[1] and head_yaml["rows_out"] == rows_of[head]
    assert head_yaml["version"] == head
    decisions = _sql(workspace, "SELECT decision_id, tool, approved, rejected, status FROM decisions")
    assert head_yaml["decisions_applied"] == sum(d[4] == "applied" for d in decisions)
    assert head_yaml["decisions_undone"] == sum(d[4] == "undone" for d in decisions)

    lineage = _table(card, "| version | parent |")
    assert [(r[0], r[1], int(r[2])) for r in lineage] == [(f"v{v}", f"v{p}" if p else "-", n) for v, p, n in versions]
    shown = _table(card, "| # | tool | tool version |")
    edits = dict(_sql(workspace, "SELECT decision_id, count(*) FROM edits GROUP BY decision_id"))
    assert [(int(r[0]), r[1], int(r[4]), int(r[5]), r[6], int(r[7])) for r in shown] == [
        (d, tool, a, r, status, edits.get(d, 0)) for d, tool, a, r, status in decisions
    ]
    by_issue = _sql(workspace, "SELECT decision_id, issue, action, count(*) FROM edits GROUP BY 1, 2, 3")
    assert sorted((int(r[0]), r[2], int(r[3])) for r in _table(card, "| # | tool | issue / action |")) == sorted(
        (d, f"{issue} / {action}", n) for d, issue, action, n in by_issue
    )
    relabels = Counter(
        (str(json.loads(old)), str(json.loads(new)))
        for old, new in _sql(
            workspace,
            "SELECT e.old_value, e.new_value FROM edits e JOIN decisions d USING (decision_id) "
            "WHERE e.action = 'relabel' AND d.status = 'applied'",
        )
    )
    if relabels:
        assert {(r[0], r[1]): int(r[2]) for r in _table(card, "| from | to | rows |")} == dict(relabels)
    else:
        assert "No label was changed." in card
    return head_yaml


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_the_card_of_the_example_run_matches_the_ledger(cli, tmp_path):
    out = tmp_path / "run"
    assert cli("run", EXAMPLE, "--benchmark", BENCH, "--policy", "approve-all", "--out", out).code == 0
    workspace = out / "workspace" / "ledger"
    result = cli("card", "--workspace", workspace, "--out", tmp_path / "README.md")
    assert result.code == 0, result.stderr
    card = (tmp_path / "README.md").read_text()
    header = _check_card(card, workspace)
    curated = out / "curated.csv"
    assert header["curated_sha256"] == hashlib.sha256(curated.read_bytes()).hexdigest()
    assert header["source_sha256"] == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    [(decision, body, removed, kept)] = _sql(
        workspace,
        "SELECT d.decision_id, p.body, (SELECT count(*) FROM edits e WHERE e.decision_id = d.decision_id), "
        "d.rejected FROM decisions d JOIN proposals p USING (proposal_id) WHERE d.tool = 'decontam'",
    )
    found = len(json.loads(body)["findings"])
    line = next(line for line in card.splitlines() if line.startswith(f"- decision #{decision} "))
    assert f"Found {found} rows holding benchmark items; removed {removed}, kept {kept}." in line
    assert "bank_eval.jsonl:query" in line and "reworded copies" in card  # short rows: verbatim checks only, said
    assert "No synthetic row came from an LLM." in card and "No finding carries an LLM judge's verdict." in card
    label_line = next(line for line in card.splitlines() if re.match(r"- #\d+ label-errors: ", line))
    assert label_line.endswith("; embedder: `all-MiniLM-L6-v2-onnx-int8`")  # the model behind its findings

    # undo the contamination drops and export: the card follows, from the ledger again
    assert cli("undo", "--workspace", workspace, "--decision", str(decision)).code == 0
    exported = tmp_path / "after_undo.csv"
    assert cli("export", "--workspace", workspace, "--out", exported).code == 0
    assert cli("card", "--workspace", workspace, "--out", tmp_path / "README2.md").code == 0
    card = (tmp_path / "README2.md").read_text()
    header = _check_card(card, workspace)
    assert header["decisions_undone"] == 1
    assert header["curated_sha256"] == hashlib.sha256(exported.read_bytes()).hexdigest()
    assert re.search(rf"- decision #{decision} \(undone\): .* removed 0, kept 0\.", card)


def test_a_card_never_overwrites_the_input(cli, tmp_path):
    data = tmp_path / "tickets.csv"
    data.write_bytes(EXAMPLE.read_bytes())
    findings = tmp_path / "dups.jsonl"
    assert cli("tools", "dedup", data, "--out", findings).code == 0
    assert cli("apply", data, findings).code == 0  # the workspace beside the data
    result = cli("card", data, "--out", data)
    assert result.code == 2 and "never writes over its input" in result.stderr
    assert data.read_bytes() == EXAMPLE.read_bytes()


def test_untrusted_text_in_the_card_stays_text(cli, tmp_path):
    data = tmp_path / "tickets.csv"
    data.write_bytes(EXAMPLE.read_bytes())
    findings = tmp_path / "dups.jsonl"
    assert cli("tools", "dedup", data, "--out", findings).code == 0
    hostile = "<img src=x onerror=alert(1)> | [link](http://x) `tick`"
    assert cli("apply", data, findings, "--by", hostile).code == 0
    assert cli("card", data, "--out", tmp_path / "card.md").code == 0
    card = (tmp_path / "card.md").read_text()
    assert not re.search(r"(?<!\\)<img", card) and "\\<img" in card and "\\[link\\](http" in card  # no tag or link
    assert not re.search(r"&[a-z]+;", card)  # inert without HTML entities
    [row] = _table(card, "| # | tool | tool version |")
    assert len(row) == 8 and row[3] == hostile  # one cell, shown as the text it is


def test_the_bundled_runs_card_is_a_hub_card_with_a_licence_and_no_absolute_path(cli, tmp_path):
    from huggingface_hub import DatasetCard

    out = tmp_path / "runs" / "example"
    assert cli("run", EXAMPLE, "--benchmark", BENCH, "--policy", "approve-all", "--out", out).code == 0
    workspace = out / "workspace" / "ledger"
    assert cli("card", "--workspace", workspace, "--out", out / "README.md").code == 0
    text = (out / "README.md").read_text()
    card = DatasetCard(text)
    assert card.data.license == "unknown" and card.data.pretty_name == "support_tickets.csv (curated)"
    assert text.count("**To be written:**") == 3  # description, intended use, licence: marked, not invented
    absolute = [line for line in text.splitlines() if str(tmp_path) in line or str(EXAMPLE.parent) in line]
    assert not absolute and not re.search(r"&[a-z]+;", text), absolute
    assert "`curated.csv`" in text  # the export, relative to the card
    assert text.endswith("\n") and "support\\_tickets" not in text

    flags = ("--license", "cc-by-4.0", "--description", "Banking support tickets.", "--intended-use", "Training.")
    assert cli("card", "--workspace", workspace, "--out", out / "README.md", *flags).code == 0
    card = DatasetCard((out / "README.md").read_text())
    assert (
        card.data.license == "cc-by-4.0"
        and "Banking support tickets." in card.text
        and "To be written" not in card.text
    )


def test_label_changes_are_named_where_a_column_names_coded_labels(cli, tmp_path):
    import pandas as pd

    frame = pd.read_csv(EXAMPLE)
    codes = {name: i for i, name in enumerate(sorted(frame["intent"].unique()))}
    coded = pd.DataFrame(
        {
            "ticket_id": frame["ticket_id"],
            "text": frame["text"],
            "label": frame["intent"].map(codes),
            "label_name": frame["intent"],
        }
    )
    data = tmp_path / "coded.csv"
    coded.to_csv(data, index=False)
    assert cli("run", data, "--policy", "approve-all", "--out", tmp_path / "run").code == 0
    assert (
        cli("card", "--workspace", tmp_path / "run" / "workspace" / "ledger", "--out", tmp_path / "card.md").code == 0
    )
    rows = _table((tmp_path / "card.md").read_text(), "| from | to | rows |")
    assert rows and all(re.fullmatch(r"[a-z_]+ \(\d+\)", cell) for r in rows for cell in r[:2]), rows
