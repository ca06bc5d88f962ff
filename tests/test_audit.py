"""`curate audit`: every version and exported file of a ledger checked against a benchmark that appeared later,
and the drops proposed on the current version."""

from __future__ import annotations

import hashlib
import json

import pytest

from copilot.ledger import Ledger

from .test_run import BENCH, EXAMPLE, TRUTH


def _run(cli, out, *extra):
    result = cli("run", EXAMPLE, *extra, "--policy", "approve-all", "--out", out)
    assert result.code == 0, result.stderr
    return out / "workspace" / "ledger"


def _audit(cli, workspace, findings):
    result = cli("audit", "--workspace", workspace, "--benchmark", BENCH, "--out", findings)
    assert result.code == 0, result.stderr
    return result


def _natural_copies() -> set[str]:
    """The example's training queries that copy an eval query as drawn, and the planted duplicates of them."""
    natural = set(TRUTH["natural_copies"])
    return natural | {copy for copy, original in TRUTH["duplicates"].items() if original in natural}


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_the_leaks_are_found_in_version_1_and_not_in_the_curated_version(cli, tmp_path):
    from copilot.outputs.audit import audit
    from curation_tools.context import ToolContext

    workspace = _run(cli, tmp_path / "run", "--benchmark", BENCH)
    ledger = Ledger(workspace)
    report = audit(ledger, [BENCH], ToolContext(cache_dir=tmp_path / "cache"))
    first, current = report.versions[0], report.versions[-1]
    assert first.version_id == 1 and current.version_id == report.current_version == ledger.head() > 1
    held = {row for hit in first.items for row in hit.rows}
    changes = [json.loads(line) for line in (tmp_path / "run" / "changes.jsonl").read_text().splitlines()]
    dropped = {c["row_id"] for c in changes if c["issue"] == "contamination"}
    # the 12 planted leaks and the training queries that copy an eval query as drawn ("Is there any age limit?"
    # for "Is there an age limit?"): the same rows the run's decontam step found, found again from the ledger alone
    assert set(TRUTH["leaks"]) <= held and held == dropped and held - set(TRUTH["leaks"]) <= _natural_copies()
    assert current.contaminated_rows == 0 and not report.proposal.findings
    [export] = report.exports  # the run's curated.csv, by hash
    curated = tmp_path / "run" / "curated.csv"
    assert export.export.path == str(curated.resolve()) and export.export.version_id == ledger.head()
    assert export.export.sha256 == hashlib.sha256(curated.read_bytes()).hexdigest() and export.contaminated_rows == 0

    result = cli("audit", "--workspace", workspace, "--benchmark", BENCH, "--json", tmp_path / "audit.json")
    assert result.code == 0 and "v1" in result.stdout and "0 row(s) of v" in result.stderr
    assert "item eval-1 “What exchange rates do you offer?” in row(s) L002" in result.stdout  # item, text, row
    saved = json.loads((tmp_path / "audit.json").read_text())
    assert {row for hit in saved["versions"][0]["items"] for row in hit["rows"]} == held


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_a_benchmark_that_appeared_later_is_proposed_for_dropping_and_applied(cli, tmp_path):
    workspace = _run(cli, tmp_path / "run")  # no benchmark given: the leaks stay
    findings = tmp_path / "audit.jsonl"
    result = _audit(cli, workspace, findings)
    proposed = [json.loads(line) for line in findings.read_text().splitlines()]
    rows = {f["row_id"] for f in proposed}
    assert set(TRUTH["leaks"]) <= rows and rows - set(TRUTH["leaks"]) <= _natural_copies() and len(rows) > 12
    assert {f["action"] for f in proposed} == {"drop"}
    assert f"{len(proposed)} row(s) of v" in result.stderr and "curate apply" in result.stderr
    before = Ledger(workspace).head()

    applied = cli("apply", EXAMPLE, findings, "--workspace", workspace)
    assert applied.code == 0, applied.stderr
    ledger = Ledger(workspace)
    assert ledger.head() == before + 1 and not set(TRUTH["leaks"]) & set(ledger.dataset().frame.index)

    from copilot.outputs.audit import audit
    from curation_tools.context import ToolContext

    report = audit(ledger, [BENCH], ToolContext(cache_dir=tmp_path / "cache"))
    by_version = {v.version_id: v.contaminated_rows for v in report.versions}
    # version 1 also holds planted duplicates of copies, which the run's dedup step dropped
    assert by_version[before] == len(proposed) <= by_version[1] and by_version[ledger.head()] == 0


def test_audit_needs_a_benchmark_and_a_workspace(cli, tmp_path):
    result = cli("audit", "--workspace", tmp_path / "nowhere", "--benchmark", BENCH)
    assert result.code != 0 and "not a curate workspace" in result.stderr
    result = cli("audit", "--workspace", tmp_path / "nowhere")
    assert result.code == 2 and "--benchmark" in result.stderr


def test_a_benchmark_item_is_named_by_the_files_own_id_field(tmp_path):
    from curation_tools.benchmark_files import load_benchmark

    rows = [{"qid": f"Q-{i}", "n": i % 2, "question": f"what is item {i}?"} for i in range(4)]
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_benchmark(f"{path}:question").ids == ["Q-0", "Q-1", "Q-2", "Q-3"]
    (tmp_path / "plain.jsonl").write_text("".join(json.dumps({"question": r["question"]}) + "\n" for r in rows))
    assert load_benchmark(f"{tmp_path / 'plain.jsonl'}:question").ids == ["0", "1", "2", "3"]  # no id: the line
