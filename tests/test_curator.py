"""The README's Python API example, run as written, and what it leaves in the ledger."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from copilot.ledger import Ledger
from curation_tools.errors import UserInputError

README = Path(__file__).parents[1] / "README.md"


def _example() -> str:
    section = README.read_text().split("### Python API: `Curator`", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def test_the_readme_example_runs_and_the_ledger_holds_what_it_did(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "examples").symlink_to(Path(__file__).parents[1] / "examples")
    exec(compile(_example(), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    ledger = Ledger(tmp_path / "runs" / "notebook")
    decisions = ledger.decisions()
    assert [d.tool for d in decisions] == ["dedup", "label-errors"]
    assert [d.status for d in decisions] == ["applied", "undone"] and decisions[1].decided_by == "me"
    assert decisions[0].approved > 0 and decisions[0].approved + decisions[0].rejected > 0
    curated = pd.read_csv(tmp_path / "runs" / "notebook.curated.csv")
    assert len(curated) == ledger.n_rows() == 512 - decisions[0].approved
    assert f"{len(curated)} rows now" in printed
    assert all(word in printed for word in ("text", "given", "suggested", "confidence", "duplicate_of"))
    assert "exchange_rate" in printed  # labels by name, rows by their text
    assert [e.version_id for e in ledger.exports()] == [ledger.head()]


def test_masks_must_be_over_pending_findings(tmp_path, monkeypatch):
    from copilot import Curator

    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    cur = Curator(Path(__file__).parents[1] / "examples" / "support_tickets.csv", workspace=tmp_path / "ws")
    dups = cur.find("dedup", method=["exact"])
    assert set(dups["issue"]) == {"exact_duplicate"} and cur.data.shape[0] == 512
    with pytest.raises(UserInputError, match="not pending"):
        cur.apply(approve=pd.Series(True, index=["no-such-finding"]))
    with pytest.raises(UserInputError, match="Unknown tool"):
        cur.find("dedupe")
    [result] = cur.apply(approve=list(dups.index[:2]))
    assert len(result.edits) == 2 and result.rejected == len(dups) - 2 and cur.findings.empty


def test_findings_carry_text_names_and_evidence_and_a_mask_decides_only_its_tool(tmp_path, monkeypatch):
    from copilot import Curator

    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    frame = pd.read_csv(Path(__file__).parents[1] / "examples" / "support_tickets.csv")
    codes = {name: i for i, name in enumerate(sorted(frame["intent"].unique()))}
    frame = frame.assign(label=frame["intent"].map(codes)).rename(columns={"intent": "label_name"})
    data = tmp_path / "coded.csv"
    frame.to_csv(data, index=False)
    cur = Curator(data, label="label", workspace=tmp_path / "ws")
    labels = cur.find("label-errors")
    dups = cur.find("dedup")
    relabel = labels[labels["action"] == "relabel"].iloc[0]
    assert relabel["text"] == frame.set_index("ticket_id").at[relabel["row_id"], "text"]
    assert relabel["given"].endswith(")") and " (" in relabel["suggested"] and 0 < relabel["confidence"] <= 1
    copy = dups[dups["issue"] == "exact_duplicate"].iloc[0]
    assert copy["duplicate_of"] and copy["kept_text"]
    [outcome] = cur.apply(approve=dups["score"] >= 0.95)
    assert outcome.tool == "dedup" and set(cur.findings["tool"]) == {"label-errors"}  # labels still pending
    shown = repr(outcome)
    assert shown.startswith("<apply decision #1 (dedup): ") and len(shown) < 120
    assert repr(cur.undo()).startswith("<undo decision #1 (dedup)")
