"""The label-error tool's flagging rules on hand-built ensembles: the estimated count, the binary minority rule,
and classes the data itself mixes (a flag with both names, never a relabel)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from curation_tools import label_errors
from curation_tools.label_errors import Ensemble, LabelErrorParams, flag_rows, overlapping_pairs, run
from curation_tools.label_views import Views

from .conftest import make_dataset as make

NO_NEIGHBOURS = (np.zeros((1, 1), int), np.zeros((1, 1)))


def views_voting(*votes: np.ndarray, classes: int) -> dict[str, Views]:
    return {f"view{i}": Views(np.eye(classes, dtype=np.float32)[v], NO_NEIGHBOURS) for i, v in enumerate(votes)}


def test_overlap_is_two_way_mixing_among_rows_labelled_right():
    # classes 0 and 1 (20 rows each): 3 rows each way keep their label but give the other 0.4; class 3 has 4 rows
    # that read as class 2 one way only (what a systematic labelling error looks like); flipped rows (flagged) that
    # read wholly as another class do not make an overlap either
    y = np.repeat([0, 1, 2, 3], 20)
    probs = np.eye(4)[y] * 0.9 + 0.025
    for row, other in ((0, 1), (1, 1), (2, 1), (20, 0), (21, 0), (22, 0), (60, 2), (61, 2), (62, 2), (63, 2)):
        probs[row] = 0.05
        probs[row, y[row]] = 0.55
        probs[row, other] = 0.4
    flagged = np.zeros(80, bool)
    for row, other in ((40, 3), (41, 3), (64, 2), (65, 2)):  # flips both ways between 2 and 3, flagged
        probs[row] = np.eye(4)[other] * 0.9 + 0.025
        flagged[row] = True
    ensemble = Ensemble(rows=[str(i) for i in range(80)], classes=list("abcd"), y=y, probs=probs, views={}, weights={})
    assert overlapping_pairs(ensemble, flagged) == {frozenset((0, 1)): 6 / 40}


def test_the_estimate_rule_adds_rows_another_class_leads_where_most_views_agree():
    """Heavy noise: the models half-learn the wrong labels, so p(given) is not under ratio x p(top); the estimated
    count of errors brings back the rows another class leads, where most views vote for it."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 50)
    probs = np.full((200, 4), 0.4 / 3, dtype=np.float32)
    probs[np.arange(200), y] = 0.6
    half_learnt = np.arange(0, 200, 10)  # 20 rows where another class leads but the given label keeps 0.2
    other = (y[half_learnt] + 1) % 4
    probs[half_learnt] = 0.025
    probs[half_learnt, y[half_learnt]] = 0.2
    probs[half_learnt, other] = 0.75
    votes = y.copy()
    votes[half_learnt] = other
    split = votes.copy()
    split[half_learnt[:10]] = y[half_learnt[:10]]  # for 10 of them only one view of three votes for the leader
    ensemble = Ensemble(
        rows=[str(i) for i in range(200)],
        classes=[0, 1, 2, 3],
        y=y,
        probs=probs + rng.uniform(0, 1e-4, probs.shape).astype(np.float32),
        views=views_voting(votes, split, split, classes=4),
        weights={},
    )
    assert not flag_rows(ensemble, LabelErrorParams(rule="ratio")).any()
    flagged = flag_rows(ensemble, LabelErrorParams())
    assert set(np.flatnonzero(flagged)) == set(half_learnt[10:])


def test_a_minority_row_is_flagged_only_where_it_is_plainly_of_the_majority():
    """An unusual spam is not a flipped ham: a spam row is flagged as ham only where every view votes ham and the
    ensemble is as sure of ham as of most ham rows; and even then it is a flag for a person, never a relabel."""
    y = np.array([0] * 40 + [1] * 10)  # 1 is the minority (spam)
    spam = np.full(50, 0.05)
    spam[40:] = 0.9
    spam[[40, 41]] = 0.03  # two spam rows that read like typical ham
    spam[42] = 0.3  # one that reads like ham, less so than 90% of the ham rows
    spam[0] = 0.95  # a ham row that reads like spam
    probs = np.column_stack([1 - spam, spam]).astype(np.float32)
    votes = (spam > 0.5).astype(int)
    doubting = votes.copy()
    doubting[41] = 1  # one view keeps row 41 as spam
    ensemble = Ensemble(
        rows=[str(i) for i in range(50)],
        classes=["ham", "spam"],
        y=y,
        probs=probs,
        views=views_voting(votes, doubting, classes=2),
        weights={},
    )
    assert set(np.flatnonzero(flag_rows(ensemble, LabelErrorParams()))) == {0, 40}


def test_an_odd_minority_row_is_a_flag_unless_it_reads_as_the_majority_as_plainly_as_its_median(ctx, monkeypatch):
    y = np.array([0] * 40 + [1] * 10)
    spam = np.concatenate([np.linspace(0.001, 0.04, 40), np.full(10, 0.95)])  # ham rows: p(ham) 0.96-0.999
    spam[40] = 0.002  # a spam row that reads as ham more plainly than the median ham row: a relabel
    spam[41] = 0.03  # one that reads as ham, less plainly than the median ham row: a flag for a person
    spam[0] = 0.995  # a ham row that reads as spam
    probs = np.column_stack([1 - spam, spam]).astype(np.float32)
    frame = pd.DataFrame({"text": [f"message {i}" for i in range(50)], "label": np.array(["ham", "spam"])[y]})
    data = make(frame, text=["text"], label="label")
    votes = (spam > 0.5).astype(int)
    ensemble = Ensemble(
        rows=data.row_ids,
        classes=["ham", "spam"],
        y=y,
        probs=probs,
        views={"knn": Views(np.eye(2, dtype=np.float32)[votes], (np.zeros((50, 5), int), np.ones((50, 5))))},
        weights={"knn": 1.0},
    )
    monkeypatch.setattr(label_errors, "ensemble_probabilities", lambda *_: ensemble)
    by_row = {f.row_id: f for f in run(data, LabelErrorParams(), ctx).proposal.findings}
    assert set(by_row) == {data.row_ids[0], data.row_ids[40], data.row_ids[41]}
    assert by_row[data.row_ids[0]].action.type == "relabel" and by_row[data.row_ids[0]].action.new_label == "spam"
    assert by_row[data.row_ids[40]].action.type == "relabel" and by_row[data.row_ids[40]].action.new_label == "ham"
    assert by_row[data.row_ids[41]].action.type == "flag"


def test_a_flag_between_overlapping_classes_names_both_and_is_never_a_relabel(ctx, monkeypatch):
    y = np.repeat([0, 1, 2], 20)
    probs = np.full((60, 3), 0.02, dtype=np.float32)
    probs[np.arange(60), y] = 0.96
    for row, other in ((2, 1), (3, 1), (22, 0), (23, 0)):  # labelled right, read as both: a and b overlap
        probs[row] = 0.05
        probs[row, y[row]] = 0.55
        probs[row, other] = 0.4
    for row, other in ((0, 1), (40, 0)):  # an a row that reads as b; a c row that reads as a
        probs[row] = 0.01
        probs[row, other] = 0.98
    frame = pd.DataFrame({"text": [f"row {i}" for i in range(60)], "label": np.array(list("abc"))[y]})
    data = make(frame, text=["text"], label="label")
    neighbours = (np.zeros((60, 5), int), np.ones((60, 5)))
    ensemble = Ensemble(
        rows=data.row_ids,
        classes=list("abc"),
        y=y,
        probs=probs,
        views=views_voting(probs.argmax(axis=1), classes=3) | {"knn": Views(probs, neighbours)},
        weights={"view0": 0.5, "knn": 0.5},
    )
    monkeypatch.setattr(label_errors, "ensemble_probabilities", lambda *_: ensemble)
    result = run(data, LabelErrorParams(), ctx)
    by_row = {f.row_id: f for f in result.proposal.findings}
    assert set(by_row) == {data.row_ids[0], data.row_ids[40]}
    mixed = by_row[data.row_ids[0]]
    assert mixed.action.type == "flag"
    assert mixed.evidence.classes_overlap == "'a' and 'b' overlap in this data: 10.0% of their rows read as both"
    assert "these two classes overlap in this data (10.0% of their rows)" in mixed.message
    lone = by_row[data.row_ids[40]]
    assert lone.action.type == "relabel" and lone.action.new_label == "a"
    assert getattr(lone.evidence, "classes_overlap", None) is None
    assert result.report["overlapping_classes"] == [{"classes": ["a", "b"], "rate": 0.1}]
