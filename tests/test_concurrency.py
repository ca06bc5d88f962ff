"""Several processes writing one workspace at once: no update is lost, no decision is undone twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from copilot.ledger import Ledger
from curation_tools.io import load_dataset, write_table

HARNESS = Path(__file__).resolve().parent / "harness"
REPO = HARNESS.parents[1]


@pytest.fixture
def data_path(tmp_path):
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(200)], "text": [f"text {i}" for i in range(200)]})
    path = tmp_path / "data.csv"
    write_table(frame, path)
    return path


def run_together(data_path: Path, workspace: Path, tmp_path: Path, *op_lists: list[str]) -> list[list[dict]]:
    """Start one writer process per op list, release them together, return each one's results."""
    gate = tmp_path / "go"
    gate.unlink(missing_ok=True)
    Ledger.open_or_create(workspace, load_dataset(data_path)[0])  # created once, before the race
    procs = [
        subprocess.Popen(
            [sys.executable, str(HARNESS / "ledger_ops.py"), str(data_path), str(workspace), str(gate), *ops],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for ops in op_lists
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    gate.touch()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0
        results.append([json.loads(line) for line in out.splitlines()])
    return results


def test_parallel_applies_lose_no_decision(data_path, tmp_path):
    workspace = tmp_path / "ws"
    writers = [[f"drop:r{w * 10 + i}" for i in range(10)] for w in range(3)]
    run_together(data_path, workspace, tmp_path, *writers)
    ledger = Ledger(workspace)
    rows = set(ledger.dataset().row_ids)
    dropped = {op.split(":")[1] for ops in writers for op in ops}
    assert not rows & dropped, f"rows whose applied drop was lost: {sorted(rows & dropped)}"
    assert len(rows) == 200 - 30
    assert sum(d.status == "applied" for d in ledger.decisions()) == 30


def test_apply_and_undo_at_once_keep_both(data_path, tmp_path):
    workspace = tmp_path / "ws"
    first = [f"drop:r{i}" for i in range(6)]
    run_together(data_path, workspace, tmp_path, first)
    undos = [f"undo:{d}" for d in range(1, 7)]
    applies = [f"drop:r{100 + i}" for i in range(6)]
    run_together(data_path, workspace, tmp_path, undos, applies)
    ledger = Ledger(workspace)
    rows = set(ledger.dataset().row_ids)
    assert {f"r{i}" for i in range(6)} <= rows, "an undo was lost: its decision says undone, its rows are gone"
    assert not rows & {f"r{100 + i}" for i in range(6)}, "an apply was lost"
    assert len(rows) == 200 - 6


def test_one_decision_is_undone_once(data_path, tmp_path):
    workspace = tmp_path / "ws"
    run_together(data_path, workspace, tmp_path, ["drop:r1"])
    results = run_together(data_path, workspace, tmp_path, *(["undo:1"] for _ in range(3)))
    outcomes = [r[0] for r in results]
    assert sum("decision_id" in o for o in outcomes) == 1, outcomes
    assert all("already undone" in o["error"] for o in outcomes if "error" in o)
    ledger = Ledger(workspace)
    assert sum(v.note == "undo of decision #1" for v in ledger.versions()) == 1
    assert "r1" in ledger.dataset().row_ids


EXAMPLE = REPO / "examples" / "support_tickets.csv"
BENCH = REPO / "examples" / "bank_eval.jsonl"


def curate(*args: str, cache: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "copilot.cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CURATE_CACHE_DIR": str(cache), "COLUMNS": "200"},
    )


def test_a_second_writer_of_a_run_folder_exits_2_naming_the_holder(cli, tmp_path):
    folder = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, str(HARNESS / "hold_lock.py"), str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout.readline().strip() == b"locked"
        result = cli("run", EXAMPLE, "--policy", "approve-all", "--out", folder)
        assert result.code == 2
        assert f"pid {holder.pid}" in result.stderr and "Traceback" not in result.stderr
        assert not (folder / "run.json").exists()
    finally:
        holder.communicate(b"")
    assert cli("run", EXAMPLE, "--policy", "approve-all", "--out", folder).code == 0  # released on exit


def applied_proposals(folder: Path) -> list[str]:
    return [d.proposal_id for d in Ledger(folder / "workspace" / "ledger").decisions()]


@pytest.mark.slow
def test_two_runs_on_one_out_folder_never_both_write(tmp_path):
    folder = tmp_path / "run"
    args = ("run", EXAMPLE, "--benchmark", f"{BENCH}:query", "--policy", "approve-all", "--out", folder)
    procs = [curate(*args, cache=tmp_path / "cache") for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    loser = next(text for code, text in results if code == 2)
    assert "in use" in loser or "already holds a run" in loser
    assert "Traceback" not in loser
    proposals = applied_proposals(folder)
    assert len(proposals) == len(set(proposals)) == 3


@pytest.mark.slow
def test_two_resumes_of_one_run_apply_each_step_once(tmp_path):
    folder = tmp_path / "run"
    start = curate("run", EXAMPLE, "--policy", "review", "--out", folder, cache=tmp_path / "cache")
    assert start.wait(timeout=600) == 3, start.stderr.read()
    pending = json.loads((folder / "pending.json").read_text())
    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({p["finding_id"]: "approve" for p in pending}))
    args = ("run", "--resume", folder, "--decisions", decisions)
    procs = [curate(*args, cache=tmp_path / "cache") for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    assert all(code in (0, 2, 3) for code, _ in results), results
    assert all("Traceback" not in text for _, text in results), results
    proposals = applied_proposals(folder)
    assert len(proposals) == len(set(proposals)), "a step was applied twice"
