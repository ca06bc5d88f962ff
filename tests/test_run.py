"""`curate run`: the example's planted issues fixed offline, policies, review and resume, determinism, kill -9."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from .conftest import EXAMPLE, curate_here

BENCH = str(EXAMPLE.with_name("bank_eval.jsonl")) + ":query"
TRUTH = json.loads(EXAMPLE.with_name("support_tickets.truth.json").read_text())


def planted_figures(curated: Path) -> dict[str, float]:
    """The issue's acceptance figures for a curated copy of the example."""
    source = pd.read_csv(EXAMPLE)
    cur = pd.read_csv(curated).set_index("ticket_id")
    flips, dups, leaks = TRUTH["label_flips"], TRUTH["duplicates"], TRUTH["leaks"]
    fixed = sum(r not in cur.index or cur.loc[r, "intent"] == right for r, right in flips.items())
    removed = sum(d not in cur.index or o not in cur.index for d, o in dups.items())
    removed += sum(leak not in cur.index for leak in leaks)
    natural = TRUTH["natural_copies"]  # test queries the training rows hold as drawn: leaks nobody planted
    planted = set(flips) | set(dups) | set(dups.values()) | set(leaks) | set(natural)
    clean = source[~source["ticket_id"].isin(planted)].set_index("ticket_id")
    changed = sum(r not in cur.index or cur.loc[r, "intent"] != row["intent"] for r, row in clean.iterrows())
    return {
        "flips_fixed": fixed / len(flips),
        "dups_and_leaks_removed": removed / (len(dups) + len(leaks)),
        "natural_copies_removed": sum(r not in cur.index for r in natural) / len(natural),
        "clean_changed": changed / len(clean),
    }


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, shared_cache):
    """One uninterrupted approve-all run of the example, shared by the tests that compare against it (in this
    process: the determinism test runs it again as a subprocess)."""
    out = tmp_path_factory.mktemp("ref") / "run"
    args = ("run", EXAMPLE, "--benchmark", BENCH, "--policy", "approve-all", "--out", out)
    result = curate_here(*args, cwd=out.parent, cache=shared_cache)
    assert result.code == 0, result.stderr
    return out


def _curate(*args, env=None, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "copilot.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        **kwargs,
    )


CAUTIOUS_RECIPE = """steps:
  - tool: dedup
  - tool: label-errors
    params: {relabel_confidence: 0.9}
"""


@pytest.fixture(scope="module")
def flagging_run(tmp_path_factory, shared_cache):
    """An approve-all run whose label-errors step relabels only at 0.9, so most of its findings are flags, and
    whose approved flags keep their rows."""
    folder = tmp_path_factory.mktemp("flags")
    (folder / "recipe.yaml").write_text(CAUTIOUS_RECIPE)
    out = folder / "run"
    args = ("run", EXAMPLE, "--recipe", folder / "recipe.yaml", "--policy", "approve-all", "--flags", "keep")
    result = curate_here(*args, "--out", out, cwd=folder, cache=shared_cache)
    assert result.code == 0, result.stderr
    return out


def test_approved_flags_are_listed_beside_the_curated_file(flagging_run):
    """A flag changes no cell; every approved flag on a row still in the output is in flagged.jsonl."""
    changes = [json.loads(line) for line in (flagging_run / "changes.jsonl").read_text().splitlines()]
    curated = set(pd.read_csv(flagging_run / "curated.csv", dtype=str)["ticket_id"])
    flagged_rows = {c["row_id"] for c in changes if c["action"] == "flag" and c["row_id"] in curated}
    flagged = [json.loads(line) for line in (flagging_run / "flagged.jsonl").read_text().splitlines()]
    assert flagged_rows and {f["row_id"] for f in flagged} == flagged_rows
    assert all(f["tool"] == "label-errors" and f["message"] and f["suggested_label"] for f in flagged)
    summary = json.loads((flagging_run / "summary.json").read_text())
    assert summary["flagged"] == len(flagged)
    report = (flagging_run / "report.md").read_text()
    assert f"**{len(flagged)}** kept unchanged and listed for a person to look at in `flagged.jsonl`" in report
    assert summary["approved_flags"]["listed"] == len(flagged)


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
@pytest.mark.parametrize("flags", ["drop", "relabel"])
def test_a_policy_says_what_an_approved_flag_does(flagging_run, tmp_path, flags):
    """Once in a policy file, once as `--flags` over a built-in policy."""
    flagged = [json.loads(line) for line in (flagging_run / "flagged.jsonl").read_text().splitlines()]
    (tmp_path / "recipe.yaml").write_text(CAUTIOUS_RECIPE)
    if flags == "drop":
        policy = tmp_path / "flags.yaml"
        policy.write_text(f"default: approve\nflags: {flags}\n")
        choice = ["--policy", policy]
    else:
        choice = ["--policy", "approve-all", "--flags", flags]
    out = tmp_path / "run"
    result = _curate("run", EXAMPLE, "--recipe", tmp_path / "recipe.yaml", *choice, "--out", out)
    assert result.returncode == 0, result.stderr
    curated = pd.read_csv(out / "curated.csv", dtype=str).set_index("ticket_id")
    changes = {c["row_id"]: c for c in map(json.loads, (out / "changes.jsonl").read_text().splitlines())}
    for flag in flagged:
        if flags == "drop":
            assert flag["row_id"] not in curated.index and changes[flag["row_id"]]["action"] == "drop"
        else:
            assert curated.loc[flag["row_id"], "intent"] == flag["suggested_label"]
            assert changes[flag["row_id"]]["action"] == "relabel"
    assert (out / "flagged.jsonl").read_text() == ""
    assert json.loads((out / "summary.json").read_text())["flagged"] == 0


def test_approve_all_fixes_the_planted_issues(reference_run):
    figures = planted_figures(reference_run / "curated.csv")
    assert figures["flips_fixed"] >= 0.70, figures
    assert figures["dups_and_leaks_removed"] >= 0.95, figures
    assert figures["clean_changed"] <= 0.03, figures
    summary = json.loads((reference_run / "summary.json").read_text())
    assert summary["status"] == "finished" and [s["tool"] for s in summary["steps"]] == [
        "decontam",
        "dedup",
        "label-errors",
    ]
    changes = [json.loads(line) for line in (reference_run / "changes.jsonl").read_text().splitlines()]
    assert {"row_id", "action", "tool", "score", "decided_by"} <= set(changes[0])
    assert {c["decided_by"] for c in changes} == {"policy:approve-all"}
    kinds = [json.loads(line)["kind"] for line in (reference_run / "events.jsonl").read_text().splitlines()]
    assert kinds[0] == "started" and kinds[-1] == "finished" and "plan" in kinds and "applied" in kinds
    assert "label-errors" in (reference_run / "report.md").read_text()


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_same_inputs_same_outputs(reference_run, tmp_path):
    again = tmp_path / "again"
    assert _curate("run", EXAMPLE, "--benchmark", BENCH, "--policy", "approve-all", "--out", again).returncode == 0
    assert (again / "curated.csv").read_bytes() == (reference_run / "curated.csv").read_bytes()
    assert (again / "changes.jsonl").read_bytes() == (reference_run / "changes.jsonl").read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", ["proposal_ready", "applied"])
def test_kill_9_then_resume_matches_an_uninterrupted_run(reference_run, tmp_path, kill_after):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "copilot.cli",
            "run",
            str(EXAMPLE),
            "--benchmark",
            BENCH,
            "--policy",
            "approve-all",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    events = out / "events.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if events.exists() and f'"kind":"{kill_after}"' in events.read_text():
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before the kill point"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = _curate("run", "--resume", out)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "curated.csv").read_bytes() == (reference_run / "curated.csv").read_bytes()
    ref = [json.loads(line) for line in (reference_run / "changes.jsonl").read_text().splitlines()]
    got = [json.loads(line) for line in (out / "changes.jsonl").read_text().splitlines()]
    key = lambda c: (c["tool"], c["row_id"], c["action"])  # noqa: E731
    assert sorted(map(key, got)) == sorted(map(key, ref))  # nothing lost, nothing applied twice


def _ledger_decisions(run: Path) -> list[tuple[str, int, int]]:
    from copilot.ledger import Ledger

    return [(d.tool, d.approved, d.n_edits) for d in Ledger(run / "workspace" / "ledger").decisions()]


@pytest.mark.slow
def test_a_kill_at_every_checkpoint_boundary_resumes_exactly_where_it_stopped(reference_run, tmp_path, record_property):
    """SIGKILL right after each checkpoint write of the run (node outputs and step checkpoints alike), then resume:
    the run continues (never starts over), and ends with the uninterrupted run's data and decisions."""
    harness = Path(__file__).parent / "harness" / "kill_at_checkpoint.py"
    args = ("run", EXAMPLE, "--benchmark", BENCH, "--policy", "approve-all")
    boundaries = 0
    for n in range(1, 200):
        out = tmp_path / f"kill-{n}"
        killed = subprocess.run(
            [sys.executable, str(harness), str(n), *map(str, args), "--out", str(out)], capture_output=True, text=True
        )
        if killed.returncode != -signal.SIGKILL:  # the run wrote fewer than n checkpoints: every boundary was hit
            assert killed.returncode == 0 and "ended before write" in killed.stderr, killed.stderr
            break
        boundaries += 1
        resumed = _curate("run", "--resume", out)
        assert resumed.returncode == 0, (n, resumed.stderr)
        kinds = [json.loads(line)["kind"] for line in (out / "events.jsonl").read_text().splitlines()]
        assert kinds.count("started") == 1, f"kill after write {n}: the resumed run started over"
        assert (out / "curated.csv").read_bytes() == (reference_run / "curated.csv").read_bytes(), n
        assert _ledger_decisions(out) == _ledger_decisions(reference_run), n
    assert boundaries >= 10, "the run wrote too few checkpoints for this test to mean anything"
    record_property("cases", boundaries)


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_review_policy_waits_and_resumes_with_decisions(tmp_path):
    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    out = tmp_path / "run"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("steps:\n  - tool: dedup\n    params: {method: [exact]}\n")
    first = _curate("run", data, "--recipe", recipe, "--policy", "review", "--out", out)
    assert first.returncode == 3, first.stderr
    assert "--resume" in first.stderr and (out / "pending.json").exists()
    pending = json.loads((out / "pending.json").read_text())
    assert pending and all(p["tool"] == "dedup" and p["decision"] is None for p in pending)
    for i, item in enumerate(pending):
        item["decision"] = "approve" if i % 2 == 0 else "reject"
    (out / "pending.json").write_text(json.dumps(pending))
    done = _curate("run", "--resume", out, "--decisions", out / "pending.json")
    assert done.returncode == 0, done.stderr
    changes = [json.loads(line) for line in (out / "changes.jsonl").read_text().splitlines()]
    assert len(changes) == (len(pending) + 1) // 2 and {c["decided_by"] for c in changes} == {"human"}
    assert _curate("run", "--resume", out).returncode == 0  # a finished run stays finished


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_conservative_policy_applies_only_certain_actions(tmp_path):
    out = tmp_path / "run"
    result = _curate("run", EXAMPLE, "--benchmark", BENCH, "--policy", "conservative", "--out", out)
    assert result.returncode == 0, result.stderr
    changes = [json.loads(line) for line in (out / "changes.jsonl").read_text().splitlines()]
    assert changes and {c["issue"] for c in changes} <= {"exact_duplicate", "split_leak", "contamination"}
    assert all(c["score"] >= 0.95 for c in changes if c["issue"] == "contamination")


def test_bad_input_exits_2(cli, tmp_path):
    assert cli("run", EXAMPLE, "--policy", "lenient", "--out", tmp_path / "a").code == 2
    assert cli("run", tmp_path / "missing.csv", "--out", tmp_path / "b").code == 2
    assert cli("run", "--resume", tmp_path / "nothing").code == 2
    bad_recipe = tmp_path / "r.yaml"
    bad_recipe.write_text("steps:\n  - tool: teleport\n")
    assert cli("run", EXAMPLE, "--recipe", bad_recipe, "--policy", "approve-all", "--out", tmp_path / "c").code == 2


def test_explain_and_changes_name_who_decided_each_finding(cli, tmp_path):
    """A proposal decided partly by the policy and partly by a person: each finding keeps its own decider."""
    policy = tmp_path / "exact.yaml"
    policy.write_text("rules:\n  - {issue: exact_duplicate, decision: approve}\ndefault: ask\n")
    out = tmp_path / "run"
    assert cli("run", EXAMPLE, "--policy", policy, "--out", out).code == 3
    pending = json.loads((out / "pending.json").read_text())
    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({p["finding_id"]: "approve" for p in pending}))
    while cli("run", "--resume", out, "--decisions", decisions).code == 3:  # later rounds ask again
        pending = json.loads((out / "pending.json").read_text())
        decisions.write_text(json.dumps({p["finding_id"]: "reject" for p in pending}))
    changes = [json.loads(line) for line in (out / "changes.jsonl").read_text().splitlines()]
    by_issue = {(c["issue"], c["decided_by"]) for c in changes if c["tool"] == "dedup"}
    assert by_issue == {("exact_duplicate", "policy:exact.yaml"), ("near_duplicate", "human")}
    exact = next(c["row_id"] for c in changes if c["issue"] == "exact_duplicate")
    near = next(c["row_id"] for c in changes if c["issue"] == "near_duplicate")
    workspace = ("--workspace", out / "workspace" / "ledger")
    assert "decided by policy:exact.yaml" in cli("explain", exact, *workspace).stdout
    assert "decided by human" in cli("explain", near, *workspace).stdout
    assert "human, policy:exact.yaml" in cli("log", *workspace).stdout
    report = (out / "report.md").read_text()
    assert "Decided by: `human` approved" in report and "`policy:exact.yaml` approved" in report
    deciders = json.loads((out / "summary.json").read_text())["decided_by"]
    assert deciders["policy:exact.yaml"]["rejected"] == 0 and deciders["human"]["approved"] > 0


def test_a_long_quiet_step_still_reports_progress():
    """The heartbeat repeats the latest report while the work inside says nothing, and never after a newer one."""
    import threading

    from curation_tools.progress import heartbeat

    seen: list[tuple[str, int, int | None]] = []
    repeated = threading.Event()

    def record(stage: str, done: int, total: int | None) -> None:
        seen.append((stage, done, total))
        if seen.count(("fitting", 1, 5)) >= 3:
            repeated.set()

    with heartbeat(record, ("starting", 0, None), every=0.01) as progress:
        progress("fitting", 1, 5)
        assert repeated.wait(10)  # a quiet step: its last report comes again
    assert seen[0] == ("starting", 0, None) and set(seen[1:]) == {("fitting", 1, 5)}
    assert not any(t.name == "progress-heartbeat" for t in threading.enumerate())  # it ends with the block


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_a_run_hears_the_heartbeat_of_its_steps(tmp_path, monkeypatch):
    """Inside the graph the heartbeat's thread reaches LangGraph's stream (its context is copied): a quiet step's
    progress comes again as events, and no thread fails."""
    import itertools
    import shutil
    import threading

    from copilot.review.policy import load_policy
    from copilot.run.run_config import RunConfig
    from copilot.run.session import Session
    from curation_tools import progress

    failures: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    monkeypatch.setattr(progress, "HEARTBEAT_S", 0.02)
    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    session = Session.start(RunConfig(data=str(data), policy=load_policy("approve-all")), tmp_path / "run")
    beats = [e.data for e in session.events() if e.kind == "progress"]
    assert not failures
    assert any(a == b for a, b in itertools.pairwise(beats))  # a report sent again while nothing moved
