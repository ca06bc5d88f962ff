"""The ledger: apply, undo, redo, diff, explain, export, conflicts, and crash safety under SIGKILL."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from copilot.core.decisions import Decision, FindingDecision
from copilot.ledger import Ledger
from curation_tools.errors import UserInputError
from curation_tools.io import load_dataset, write_table
from curation_tools.schema import Action, Evidence, Finding, Proposal

HERE = Path(__file__).resolve().parent


@pytest.fixture
def data_path(tmp_path):
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(6)],
            "text": ["alpha one", "beta two", "gamma three", "delta four", "alpha one", "eps five"],
            "label": ["a", "b", "a", "b", "a", "b"],
        }
    )
    path = tmp_path / "data.csv"
    write_table(frame, path)
    return path


@pytest.fixture
def ledger(data_path, tmp_path):
    return Ledger.open_or_create(tmp_path / "ws", load_dataset(data_path)[0])


def proposal(*findings: Finding, tool: str = "test") -> Proposal:
    return Proposal(tool=tool, tool_version="1", summary="test", findings=list(findings))


def drop(row: str) -> Finding:
    return Finding(
        row_id=row,
        issue="exact_duplicate",
        score=1.0,
        action=Action(type="drop"),
        message=f"{row} duplicates r0",
        evidence=Evidence(duplicate_of="r0"),
    )


def relabel(row: str, label: str) -> Finding:
    return Finding(
        row_id=row,
        issue="label_error",
        score=0.9,
        action=Action(type="relabel", new_label=label),
        evidence=Evidence(given_label="?", suggested_label=label, suggested_confidence=0.9),
    )


def decide(p: Proposal, by: str = "tester", reason: str = "", overrides=None) -> Decision:
    return Decision.uniform(p, approve=True, decided_by=by, reason=reason, overrides=overrides)


def test_apply_creates_a_new_version_and_keeps_the_input(ledger, data_path):
    before = hashlib.sha256(data_path.read_bytes()).hexdigest()
    p = proposal(drop("r4"), relabel("r2", "b"))
    result = ledger.apply(p, decide(p, reason="dup and wrong label"))
    assert (result.version_before, result.version_after) == (1, 2)
    current = ledger.dataset().frame
    assert "r4" not in current.index and current.at["r2", "label"] == "b"
    assert len(ledger.dataset(1)) == 6
    assert hashlib.sha256(data_path.read_bytes()).hexdigest() == before


def test_rejections_and_overrides(ledger):
    p = proposal(drop("r4"), relabel("r2", "b"), relabel("r3", "a"))
    first, third = p.findings[0].finding_id, p.findings[2].finding_id
    overrides = {
        first: FindingDecision(finding_id=first, approve=False, decided_by="tester"),
        third: FindingDecision(finding_id=third, approve=True, new_label="b", decided_by="tester"),
    }
    result = ledger.apply(p, decide(p, overrides=overrides))
    frame = ledger.dataset().frame
    assert result.rejected == 1 and "r4" in frame.index
    assert frame.at["r3", "label"] == "b"
    assert ledger.decisions()[0].approved == 2


def test_a_label_no_row_holds_is_a_conflict_and_a_typed_one_takes_the_column_type(tmp_path):
    """A person's typo ("spamm", or "spam" in an integer column) must not reach the data: it is a conflict, the
    version is written, and the next decision applies. "1" in an integer column is the class 1."""
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(4)], "text": list("wxyz"), "label": [0, 1, 0, 1]})
    write_table(frame, tmp_path / "ints.csv")
    ledger = Ledger.open_or_create(tmp_path / "ws", load_dataset(tmp_path / "ints.csv")[0])
    p = proposal(relabel("r0", "1"), relabel("r1", "0"))
    first = p.findings[0].finding_id
    overrides = {first: FindingDecision(finding_id=first, approve=True, new_label="spamm", decided_by="person")}
    result = ledger.apply(p, decide(p, overrides=overrides))
    assert [(c.row_id, c.reason) for c in result.conflicts] == [
        ("r0", "label 'spamm' is not a class of column 'label': no row holds it")
    ]
    again = proposal(relabel("r0", "1"))
    ledger.apply(again, decide(again))
    labels = ledger.dataset().frame["label"]
    assert labels.tolist() == [1, 0, 0, 1] and pd.api.types.is_integer_dtype(labels)
    assert ledger.export(tmp_path / "out.csv").exists()


def test_a_relabel_renames_the_column_that_names_the_label_and_undo_restores_it(tmp_path):
    """banking77 ships `label` (a code) with `label_name`: a relabel used to leave the old name on the row."""
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(5)],
            "text": list("vwxyz"),
            "label": [0, 1, 0, 1, 2],
            "label_name": ["card", "atm", "card", "atm", "fee"],
            "domain": ["bank", "bank", "bank", "bank", "bank"],
        }
    )
    write_table(frame, tmp_path / "named.csv")
    ledger = Ledger.open_or_create(tmp_path / "ws", load_dataset(tmp_path / "named.csv")[0])
    p = proposal(relabel("r0", "2"))
    result = ledger.apply(p, decide(p))
    assert [(e.column, e.old_value, e.new_value) for e in result.edits] == [
        ("label", 0, 2),
        ("label_name", "card", "fee"),
    ]
    current = ledger.dataset().frame
    assert (current.at["r0", "label"], current.at["r0", "label_name"], current.at["r0", "domain"]) == (2, "fee", "bank")
    assert ledger.explain("r0").label_names == {"0": "card", "1": "atm", "2": "fee"}
    ledger.undo()
    restored = ledger.dataset().frame
    assert (restored.at["r0", "label"], restored.at["r0", "label_name"]) == (0, "card")


def test_explain_names_a_coded_label(cli, tmp_path):
    frame = pd.DataFrame(  # class 0 is gone after the relabel: its name comes from the input
        {"id": ["r0", "r1", "r2"], "text": ["x", "y", "z"], "label": [0, 1, 1], "label_name": ["card", "atm", "atm"]}
    )
    write_table(frame, tmp_path / "named.csv")
    ledger = Ledger.open_or_create(tmp_path / "ws", load_dataset(tmp_path / "named.csv")[0])
    p = proposal(relabel("r0", "1"))
    ledger.apply(p, decide(p))
    ledger.close()
    shown = cli("explain", "r0", "--workspace", tmp_path / "ws").stdout
    assert "label: 0 (card) -> 1 (atm)" in shown and "label_name: 'card' -> 'atm'" in shown


def test_undo_redo_round_trip(ledger):
    original = ledger.dataset().frame.copy()
    p = proposal(drop("r4"), relabel("r2", "b"))
    ledger.apply(p, decide(p))
    after = ledger.dataset().frame.copy()
    undone = ledger.undo()
    assert undone.op == "undo" and ledger.decisions()[0].status == "undone"
    pd.testing.assert_frame_equal(ledger.dataset().frame, original)
    ledger.redo()
    pd.testing.assert_frame_equal(ledger.dataset().frame, after)
    with pytest.raises(UserInputError, match="Nothing to redo"):
        ledger.redo()


def test_undo_an_earlier_decision_keeps_later_ones(ledger):
    first, second = proposal(drop("r4")), proposal(relabel("r2", "b"))
    ledger.apply(first, decide(first))
    ledger.apply(second, decide(second))
    ledger.undo(decision_id=1)
    frame = ledger.dataset().frame
    assert "r4" in frame.index and frame.at["r2", "label"] == "b"
    assert list(frame.index) == [f"r{i}" for i in range(6)]  # restored in its original place


def test_conflicts_are_reported_not_applied(ledger):
    first = proposal(drop("r4"))
    ledger.apply(first, decide(first))
    second = proposal(relabel("r4", "b"), relabel("r1", "a"))
    result = ledger.apply(second, decide(second))
    assert [c.row_id for c in result.conflicts] == ["r4"]
    assert "removed by an earlier decision" in result.conflicts[0].reason
    assert ledger.dataset().frame.at["r1", "label"] == "a"
    third = proposal(relabel("r1", "b"))
    ledger.apply(third, decide(third))
    undo = ledger.undo(decision_id=2)  # r1 was changed again by decision 3
    assert any(c.row_id == "r1" and "is now 'b'" in c.reason for c in undo.conflicts)


def test_records_read_again_are_never_stale_when_another_connection_rewrites_them(ledger):
    """Proposals and edits stay parsed per connection (a large run reads them several times); a rewrite by another
    connection (forgetting a redacted value rewrites both in place) is seen on the next read."""
    p = proposal(drop("r4"))
    ledger.apply(p, decide(p))
    assert ledger.proposal(p.proposal_id) is ledger.proposal(p.proposal_id)  # parsed once
    assert ledger.edits_of(1)[0].old_value["text"] == "alpha one"
    with Ledger(ledger.root) as other:
        body = other.store.db.execute("SELECT body FROM proposals WHERE proposal_id=?", (p.proposal_id,)).fetchone()[0]
        with other.store.transaction():
            other.store.db.execute(
                "UPDATE proposals SET body=? WHERE proposal_id=?",
                (body.replace("r4 duplicates r0", "[forgotten]"), p.proposal_id),
            )
            other.store.db.execute("UPDATE edits SET old_value=replace(old_value, 'alpha one', '[forgotten]')")
    assert ledger.proposal(p.proposal_id).findings[0].message == "[forgotten]"
    assert ledger.edits_of(1)[0].old_value["text"] == "[forgotten]"


def test_add_rows_and_undo(ledger):
    new = Finding(
        row_id="syn-1",
        issue="augment",
        score=0.5,
        action=Action(
            type="add_rows",
            new_row={"id": "syn-1", "text": "zeta", "label": "a"},
            origin={"origin": "synthetic", "method": "test"},
        ),
    )
    p = proposal(new)
    ledger.apply(p, decide(p))
    assert ledger.dataset().frame.loc["syn-1", "text"] == "zeta"
    ledger.undo()
    assert "syn-1" not in ledger.dataset().frame.index


def test_diff_and_explain(ledger):
    p = proposal(drop("r4"), relabel("r2", "b"))
    ledger.apply(p, decide(p, by="alice", reason="checked by hand"))
    diff = ledger.diff(1, 2)
    assert diff.removed == ["r4"] and diff.added == []
    assert [(c.row_id, c.column, c.old, c.new) for c in diff.changed] == [("r2", "label", "a", "b")]
    history = ledger.explain("r4")
    assert not history.present and history.events[0].action == "drop"
    assert history.events[0].decided_by == "alice" and history.events[0].reason == "checked by hand"
    assert history.events[0].evidence["duplicate_of"] == "r0"
    assert ledger.explain("r0").events == []
    with pytest.raises(UserInputError, match="No row with id"):
        ledger.explain("nope")


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.parquet", "out.tsv.gz"])
def test_export_formats(ledger, tmp_path, name):
    p = proposal(drop("r4"))
    ledger.apply(p, decide(p))
    path = ledger.export(tmp_path / name)
    exported, _ = load_dataset(path)
    assert exported.row_ids == ["r0", "r1", "r2", "r3", "r5"]
    assert list(exported.frame.columns) == ["id", "text", "label"]


def test_export_refuses_to_overwrite_input(ledger, data_path):
    with pytest.raises(UserInputError, match="never writes over its input"):
        ledger.export(data_path)


def test_workspace_detects_changed_input(ledger, data_path, tmp_path):
    data_path.write_text(data_path.read_text() + "r9,new row,a\n")
    with pytest.raises(UserInputError, match="changed since the workspace"):
        Ledger.open_or_create(tmp_path / "ws", load_dataset(data_path)[0])


def _edit(row: str, column: str, value, path=None) -> Finding:
    return Finding(
        row_id=row, issue="edit", score=1.0, action=Action(type="edit_cell", column=column, new_value=value, path=path)
    )


def test_an_edit_cell_is_applied_exported_and_undone(ledger, tmp_path):
    result = ledger.apply(*(lambda p: (p, decide(p)))(proposal(_edit("r1", "text", "beta TWO"))))
    assert [(e.column, e.old_value, e.new_value) for e in result.edits] == [("text", "beta two", "beta TWO")]
    assert ledger.dataset().frame.at["r1", "text"] == "beta TWO"
    ledger.export(tmp_path / "out.csv")
    assert "r1,beta TWO,b" in (tmp_path / "out.csv").read_text()
    ledger.undo()
    assert ledger.dataset().frame.at["r1", "text"] == "beta two"
    unknown = ledger.apply(*(lambda p: (p, decide(p)))(proposal(_edit("r1", "nope", "x"))))
    assert unknown.conflicts and "unknown column 'nope'" in unknown.conflicts[0].reason


def test_an_edit_inside_a_chat_cell_changes_one_message_and_undo_restores_it(tmp_path):
    import json

    rows = [
        {
            "id": f"c{i}",
            "messages": [{"role": "user", "content": f"write to a{i}@x.org"}, {"role": "assistant", "content": "ok"}],
        }
        for i in range(4)
    ]
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data, _ = load_dataset(path)
    ledger = Ledger.open_or_create(tmp_path / "ws", data)
    edit = _edit("c1", "messages", "write to [EMAIL]", path=[0, "content"])
    missing = _edit("c2", "messages", "x", path=[7, "content"])
    result = ledger.apply(*(lambda p: (p, decide(p)))(proposal(edit, missing)))
    [done] = result.edits
    assert done.old_value[0]["content"] == "write to a1@x.org" and done.new_value[0]["content"] == "write to [EMAIL]"
    assert done.new_value[1] == {"role": "assistant", "content": "ok"}  # the rest of the cell as it was
    assert [c.reason for c in result.conflicts] == ["row c2's messages has no value at 7"]
    ledger.export(tmp_path / "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["messages"][0]["content"] == "write to [EMAIL]"
    assert lines[0] == path.read_text().splitlines()[0]  # untouched rows byte for byte
    ledger.undo()
    assert ledger.dataset().frame.at["c1", "messages"][0]["content"] == "write to a1@x.org"


def _consistent(workspace: Path, n_input: int) -> int:
    """Open the ledger after a kill and check its invariants; returns the number of applied decisions."""
    if not (workspace / "workspace.json").exists():  # killed while the workspace was being created
        return 0
    ledger = Ledger(workspace)
    decisions = ledger.decisions()
    frame = ledger.dataset().frame
    assert len(frame) == n_input - 50 * len(decisions)
    for version in ledger.versions():
        assert len(ledger.dataset(version.version_id)) == version.n_rows
    assert ledger.head() == 1 + len(decisions)
    return len(decisions)


@pytest.mark.slow
def test_sigkill_during_apply_leaves_previous_version_intact(tmp_path):
    n = 60_000
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": [f"row number {i} " * 8 for i in range(n)],
            "label": [i % 3 for i in range(n)],
        }
    )
    data_path = tmp_path / "big.parquet"
    write_table(frame, data_path)
    digest = hashlib.sha256(data_path.read_bytes()).hexdigest()
    rng = random.Random(3)
    workspace = tmp_path / "ws"
    applied_total = 0
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    for attempt in range(8):
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "ledger_worker.py"), str(data_path), str(workspace), "1000"],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        # Observable kill points: the first attempt dies once the workspace's versions folder exists (it is being
        # created: workspace.json comes last), later ones after 0-3 committed applies, mid-way through the next.
        if attempt == 0:
            while not (workspace / "versions").exists() and proc.poll() is None:
                time.sleep(0.001)
        else:
            assert proc.stdout.readline().strip() == "ready"
            for _ in range(rng.randint(0, 3)):
                assert proc.stdout.readline().strip().isdigit()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        applied_total = _consistent(workspace, n)
    assert applied_total > 0, "the worker never committed; the kill test exercised nothing"
    assert hashlib.sha256(data_path.read_bytes()).hexdigest() == digest
