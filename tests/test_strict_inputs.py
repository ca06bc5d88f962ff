"""Mistyped rules never widen what gets approved: policies, recipes, decisions and findings files are strict."""

from __future__ import annotations

import json
import shutil

import pytest

from copilot.ledger import Ledger, default_workspace

from .conftest import EXAMPLE


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, path)
    return path


def test_an_unknown_flags_choice_is_refused(cli, example, tmp_path):
    result = cli("run", example, "--policy", "approve-all", "--flags", "delete", "--out", tmp_path / "run")
    assert result.code == 2 and "--flags must be one of keep, drop, relabel, not 'delete'" in result.stderr
    assert not (tmp_path / "run" / "changes.jsonl").exists()


@pytest.mark.parametrize(
    "text, hint",
    [
        ("rule:\n  - {issue: exact_duplicate, decision: reject}\ndefault: approve\n", "did you mean 'rules'?"),
        ("rules:\n  - {issue: exact_duplicate, decison: reject}\ndefault: approve\n", "did you mean 'decision'?"),
        ("rules:\n  - {isue: exact_duplicate, decision: reject}\ndefault: approve\n", "did you mean 'issue'?"),
        ("defualt: approve\n", "did you mean 'default'?"),
        ("- approve\n", "not a list"),
        ("\x00\x01\x02binary", "binary"),
    ],
)
def test_a_mistyped_policy_is_refused_naming_the_nearest_key(cli, example, tmp_path, text, hint):
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    result = cli("run", example, "--policy", policy, "--out", tmp_path / "run")
    assert result.code == 2 and hint in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "text, hint",
    [
        ("steps:\n  - tool: dedup\n    params: {methods: [exact]}\n", "did you mean 'method'?"),
        ("steps:\n  - tool: dedup\n    parms: {method: [exact]}\n", "did you mean 'params'?"),
        ("plan: auto\nstep: []\n", "did you mean 'steps'?"),
    ],
)
def test_a_recipe_with_an_unknown_key_or_parameter_is_refused(cli, example, tmp_path, text, hint):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(text)
    result = cli("run", example, "--recipe", recipe, "--policy", "approve-all", "--out", tmp_path / "run")
    assert result.code == 2 and hint in result.stderr, result.stderr


def test_findings_made_on_other_data_are_refused_and_drop_nothing(cli, example, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text(EXAMPLE.read_text().replace("ticket_id", "ticket_id", 1) + "\n")  # same rows, other bytes
    findings = tmp_path / "f.jsonl"
    assert cli("tools", "dedup", other, "--out", findings).code == 0
    assert findings.read_text().strip(), "the tool found nothing to apply"
    result = cli("apply", example, findings)
    assert result.code == 2 and "made on other data" in result.stderr
    assert Ledger(default_workspace(example)).head() == 1


def test_findings_from_this_data_apply(cli, example, tmp_path):
    findings = tmp_path / "f.jsonl"
    assert cli("tools", "dedup", example, "--out", findings).code == 0
    assert cli("apply", example, findings).code == 0
    assert Ledger(default_workspace(example)).head() == 2


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: {k: v for k, v in r.items() if k != "action"}, "lacks action"),
        (lambda r: [r], "holds a JSON list"),
        (lambda r: {**r, "score": float("nan")}, "finite number"),
        (lambda r: {k: v for k, v in r.items() if k != "data_sha256"}, "does not say which data"),
        (lambda r: {**r, "action": "explode"}, "not a valid finding"),
    ],
)
def test_hand_edited_findings_are_refused_with_the_line(cli, example, tmp_path, edit, message):
    findings = tmp_path / "f.jsonl"
    assert cli("tools", "dedup", example, "--out", findings).code == 0
    first = json.loads(findings.read_text().splitlines()[0])
    findings.write_text(json.dumps(edit(first)) + "\n")
    result = cli("apply", example, findings)
    assert result.code == 2 and message in result.stderr and "line 1" in result.stderr, result.stderr


def test_binary_findings_file_is_refused(cli, example, tmp_path):
    findings = tmp_path / "f.jsonl"
    findings.write_bytes(b"\xff\xfe\x00garbage")
    result = cli("apply", example, findings)
    assert result.code == 2 and "not UTF-8" in result.stderr


@pytest.mark.parametrize(
    "decisions, message",
    [
        ([{"decision": "approve"}], "has no finding_id"),
        ([{"finding_id": "x", "decison": "approve"}], "did you mean 'decision'?"),
        ({"x": "yes"}, "is 'approve' or 'reject'"),
        ({"x": {"approve": "true"}}, "decision object"),
    ],
)
def test_bad_decisions_files_are_refused(cli, example, tmp_path, decisions, message):
    folder = tmp_path / "run"
    assert cli("run", example, "--policy", "review", "--out", folder).code == 3
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps(decisions))
    result = cli("run", "--resume", folder, "--decisions", path)
    assert result.code == 2 and message in result.stderr, result.stderr
