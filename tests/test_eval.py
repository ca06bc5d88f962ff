"""`curate eval`: scorers on hand-made cases, reviewers, the small suite end to end, compare."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from copilot.evaluation.builders import Truth
from copilot.evaluation.reviewers import SimulatedReviewer
from copilot.evaluation.scoring import score
from curation_tools.schema import Action, Finding

RAW = pd.DataFrame(
    {"text": [f"row {i}" for i in range(10)], "label": ["a", "b"] * 5},
    index=pd.Index([f"r{i}" for i in range(8)] + ["d0", "l0"], name="row_id"),
)
TRUTH = Truth(
    label_flips={"r0": "b", "r1": "a"},
    duplicates={"d0": "r2"},
    leaks={"l0": "3"},
    planted_rows=["d0", "l0", "r0", "r1"],
)


def _drop(rows, tool):
    return [{"row_id": r, "action": "drop", "tool": tool, "new_value": None} for r in rows]


def test_a_planner_that_does_nothing_scores_zero_with_no_collateral():
    s = score(TRUTH, RAW, RAW, [])
    assert s.mean_f1 == 0.0 and s.collateral == 0.0 and s.changes == 0
    assert s.detection["label"].precision is None and s.detection["label"].recall == 0.0


def test_a_planner_that_drops_everything_has_full_collateral():
    changes = _drop(RAW.index, "dedup")
    s = score(TRUTH, RAW, RAW.iloc[0:0], changes)
    assert s.collateral == 1.0 and s.clean_changed == s.clean_rows == 5
    assert s.detection["duplicate"].recall == 1.0 and s.detection["duplicate"].precision == pytest.approx(5 / 10)
    assert s.detection["leak"].recall == 1.0 and s.detection["leak"].changes == 0  # dropped, but not by decontam


def test_the_perfect_curator_scores_one():
    curated = RAW.drop(index=["d0", "l0"]).copy()
    curated.loc["r0", "label"], curated.loc["r1", "label"] = "b", "a"
    changes = (
        _drop(["d0"], "dedup")
        + _drop(["l0"], "decontam")
        + [
            {"row_id": "r0", "action": "relabel", "tool": "label-errors", "new_value": "b"},
            {"row_id": "r1", "action": "relabel", "tool": "label-errors", "new_value": "a"},
        ]
    )
    s = score(TRUTH, RAW, curated, changes)
    assert s.mean_f1 == 1.0 and s.collateral == 0.0


def test_a_wrong_relabel_is_a_false_positive_and_collateral():
    curated = RAW.copy()
    curated.loc["r5", "label"] = "a"
    s = score(TRUTH, RAW, curated, [{"row_id": "r5", "action": "relabel", "tool": "label-errors", "new_value": "a"}])
    assert s.detection["label"].precision == 0.0 and s.clean_changed == 1


def test_reviewers():
    right = Finding(row_id="d0", issue="exact_duplicate", score=1.0, action=Action(type="drop"))
    wrong = Finding(row_id="r5", issue="label_error", score=0.9, action=Action(type="relabel", new_label="a"))
    fixing = Finding(row_id="r0", issue="label_error", score=0.9, action=Action(type="relabel", new_label="b"))
    oracle = SimulatedReviewer("oracle", TRUTH)
    assert [oracle.decide("t", f).approve for f in (right, wrong, fixing)] == [True, False, True]
    assert oracle.decide("t", right).decided_by == "simulated:oracle"
    approve_all = SimulatedReviewer("approve-all", TRUTH)
    assert all(approve_all.decide("t", f).approve for f in (right, wrong))
    doubt = Finding(row_id="r1", issue="label_error", score=0.6, action=Action(type="flag"))
    assert approve_all.decide("t", doubt).drop_row and not approve_all.decide("t", wrong).drop_row
    flipped = SimulatedReviewer("noisy:1.0", TRUTH)
    assert [flipped.decide("t", f).approve for f in (right, wrong)] == [False, True]
    with pytest.raises(ValueError):
        SimulatedReviewer("lenient", TRUTH)


@pytest.mark.slow
def test_small_suite_end_to_end_and_compare(cli, tmp_path):
    out = tmp_path / "eval"
    result = cli("eval", "--suite", "small", "--out", out)
    assert result.code == 0, result.stderr
    results = json.loads((out / "results.json").read_text())["results"]
    by = {(r["task"], r["system"]): r for r in results}
    assert {s for _, s in by} == {"no-op", "all-tools", "heuristic"}
    assert by[("tickets-mixed", "no-op")]["mean_f1"] == 0.0
    assert by[("tickets-mixed", "heuristic")]["mean_f1"] > 0.7
    assert all(by[(t, s)]["collateral"] <= 0.01 for t in ("tickets-clean", "wine-clean") for s in ("heuristic",))
    assert (out / "results.md").read_text().startswith("# Eval results")
    assert (out / "tasks" / "tickets-mixed" / "heuristic" / "events.jsonl").exists()  # per-task traces
    compared = cli("eval", "compare", out, out)
    assert compared.code == 0 and "heuristic" in compared.stdout
    assert cli("eval", "--suite", "nope", "--out", out).code == 2


def test_a_dca_bench_style_case_folder(cli, tmp_path):
    out = tmp_path / "cases"
    assert cli("eval", "--suite", "cases", "--out", out).code == 0
    results = json.loads((out / "results.json").read_text())["results"]
    heuristic = next(r for r in results if r["system"] == "heuristic")
    assert heuristic["leak_recall"] == 1.0 and heuristic["collateral"] <= 0.05


@pytest.mark.slow
def test_the_llm_planner_is_a_system_when_an_endpoint_is_configured(cli, tmp_path, monkeypatch):
    from copilot.llm.fake_server import FakeOpenAIServer

    def planner(body):  # a scripted model: one useful round, then finish
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        if "Round about to start: 1" not in user:
            return json.dumps({"steps": [], "rationale": "done"})
        tool = "dedup" if "- dedup:" in system else "label-errors"
        return json.dumps({"steps": [{"tool": tool, "params": {}, "reason": "scripted"}], "rationale": "one round"})

    with FakeOpenAIServer(chat=planner) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        out = tmp_path / "eval"
        result = cli("eval", "--suite", "small", "--out", out)
    assert result.code == 0, result.stderr
    results = json.loads((out / "results.json").read_text())["results"]
    llm = [r for r in results if r["system"] == "llm"]
    # On 127.0.0.1 the model picks from the earliest stage's tools not run yet: its round (dedup, or label-errors on
    # wine), then one call per later round it leaves empty, which the heuristic plans (a model may not finish
    # before them: decontam when there is a benchmark, label-errors); no call once nothing is left to offer
    calls = {r["task"]: r["llm_calls"] for r in llm}
    assert calls == {"tickets-mixed": 3, "tickets-clean": 2, "wine-flips": 1, "wine-clean": 1}
    assert next(r for r in llm if r["task"] == "wine-flips")["mean_f1"] == 1.0


def test_the_real_noise_task_holds_only_verified_errors_as_truth(tmp_path):
    """imdb_mturk: reviewed reviews a majority of 5 MTurk workers relabelled are the truth's flips (to the workers'
    label); reviewed ones they kept and unreviewed ones are clean; nothing is planted."""
    from copilot.evaluation.builders import Plants, Source, build

    from .conftest import shared_file

    verdicts = [
        json.loads(line)
        for line in shared_file("imdb/imdb_test_mturk_label_errors.jsonl").read_text().split("\n")
        if line
    ]
    task = build(Source(kind="imdb_mturk", per_class=50), Plants(), seed=0, folder=tmp_path)
    train = pd.read_csv(task.train).set_index("row_id")
    kept = sum(v["mturk_majority"] == "given" for v in verdicts)
    relabelled = sum(v["mturk_majority"] == "guessed" for v in verdicts)
    assert len(train) == kept + relabelled + 100 and len(task.truth.label_flips) == relabelled
    assert all(train.loc[r, "label"] != right for r, right in task.truth.label_flips.items())
    assert not task.truth.duplicates and not task.truth.leaks and task.benchmark is None
    assert set(pd.read_csv(task.test)["label"]) == {"neg", "pos"}
