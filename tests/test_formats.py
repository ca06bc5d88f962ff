"""Everything curate persists carries a format version, and a reader refuses one newer than it knows."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from copilot.core import formats

from .conftest import EXAMPLE, curate_here


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, shared_cache):
    folder = tmp_path_factory.mktemp("formats") / "run"
    done = curate_here(
        "run", EXAMPLE, "--policy", "approve-all", "--out", folder, cwd=folder.parent, cache=shared_cache
    )
    assert done.code == 0, done.stderr
    return folder


@pytest.fixture
def run_copy(finished_run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(finished_run, folder)
    return folder


def test_every_persisted_format_says_its_version(finished_run):
    assert json.loads((finished_run / "run.json").read_text())["format_version"] == 1
    assert json.loads((finished_run / "workspace" / "ledger" / "workspace.json").read_text())["format_version"] == 1
    events = [json.loads(line) for line in (finished_run / "events.jsonl").read_text().splitlines()]
    assert {e["format_version"] for e in events} == {1} and all("kind" in e for e in events)
    db = sqlite3.connect(finished_run / "workspace" / "ledger" / "ledger.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == formats.LEDGER
    bodies = [json.loads(body) for (body,) in db.execute("SELECT body FROM proposals")]
    assert bodies and {b["format_version"] for b in bodies} == {1}


def _changed_row(run) -> str:
    return json.loads((run / "changes.jsonl").read_text().splitlines()[0])["row_id"]


def _bump_json(path):
    data = json.loads(path.read_text())
    data["format_version"] = 99
    path.write_text(json.dumps(data))


def _bump_proposals(ledger):
    db = sqlite3.connect(ledger / "ledger.sqlite")
    for proposal_id, body in db.execute("SELECT proposal_id, body FROM proposals").fetchall():
        db.execute(
            "UPDATE proposals SET body=? WHERE proposal_id=?",
            (json.dumps({**json.loads(body), "format_version": 99}), proposal_id),
        )
    db.commit()


@pytest.mark.parametrize(
    "what, bump, command",
    [
        ("run", lambda run: _bump_json(run / "run.json"), lambda run: ["run", "--resume", run]),
        (
            "workspace",
            lambda run: _bump_json(run / "workspace" / "ledger" / "workspace.json"),
            lambda run: ["log", "--workspace", run / "workspace" / "ledger"],
        ),
        (
            "ledger",
            lambda run: sqlite3.connect(run / "workspace" / "ledger" / "ledger.sqlite").execute(
                "PRAGMA user_version = 99"
            ),
            lambda run: ["log", "--workspace", run / "workspace" / "ledger"],
        ),
        (
            "proposal",
            lambda run: _bump_proposals(run / "workspace" / "ledger"),
            lambda run: ["explain", _changed_row(run), "--workspace", run / "workspace" / "ledger"],
        ),
    ],
)
def test_a_newer_format_is_refused_with_a_clear_message(cli, run_copy, what, bump, command):
    bump(run_copy)
    result = cli(*command(run_copy))
    assert result.code == 2, result.stderr
    assert f"written by a newer curate ({what} format 99" in result.stderr and "Traceback" not in result.stderr
