"""The review that learns: answers re-rank the findings alike, like rejections suggest a rule, and the guidance and
review-effort suites run (a small slice of each)."""

from __future__ import annotations

import pytest

from copilot.core.guidance import Guidance
from copilot.evaluation.suite import load_suite
from copilot.review.learning import decisions_to_reach, queue_of
from curation_tools.schema import Action, ActionType, Evidence, Finding


def _relabel(fid: str, given: str, suggested: str, score: float) -> Finding:
    return Finding(
        finding_id=fid,
        row_id=fid,
        issue="label_error",
        score=score,
        action=Action(type=ActionType.relabel, new_label=suggested),
        evidence=Evidence(given_label=given, suggested_label=suggested),
    )


def _findings() -> list[tuple[str, Finding]]:
    """Alternating in score: relabels a->b (the person rejects them) and c->d (real errors)."""
    out = []
    for n in range(20):
        pair = ("a", "b") if n % 2 == 0 else ("c", "d")
        out.append(("label-errors", _relabel(f"f{n:02d}", *pair, score=0.99 - n * 0.01)))
    return out


def test_a_rejection_moves_the_findings_like_it_down():
    queue = queue_of(_findings())
    assert queue.order()[:2] == ["f00", "f01"]  # static: most certain first
    queue.decide("f00", approved=False)
    order = queue.order()
    assert order[:6] == ["f01", "f03", "f05", "f07", "f09", "f11"]  # the other pair's findings come first now
    assert order.index("f02") > order.index("f11")  # the rejected pair's next one moved down past five


def test_like_rejections_suggest_a_rule_that_undo_forgets():
    queue = queue_of(_findings())
    for fid in ["f00", "f02", "f04", "f06", "f08"]:
        queue.decide(fid, approved=False)
    assert queue.suggestion() is None  # 5 is not a run yet
    queue.decide("f10", approved=False)
    rule = queue.suggestion()
    assert rule is not None and rule.guidance == Guidance(distinct=[("a", "b")])
    assert "6 of 6 relabels from a to b" in rule.text
    queue.undo("f10")
    assert queue.suggestion() is None
    queue.decide("f10", approved=False)
    queue.declined.add(rule.key)
    assert queue.suggestion() is None


def test_the_learning_queue_needs_fewer_decisions_where_findings_share_a_cause():
    findings = _findings()
    truth = {f.finding_id for _, f in findings if f.evidence.given_label == "c"}
    static = decisions_to_reach(lambda q: [i for i in q.ids if i not in q.decisions], truth, queue_of(findings))
    adaptive = decisions_to_reach(lambda q: q.order(), truth, queue_of(findings))
    assert static == 18 and adaptive <= 0.6 * static


def test_the_guidance_suite_has_a_task_for_each_kind_of_wish():
    suite = load_suite("guidance")
    assert suite.kind == "guidance" and len(suite.tasks) >= 12
    kinds = {k for t in suite.tasks for k, v in t.expect.model_dump().items() if v}
    assert {
        "keep_issues",
        "protected_classes",
        "distinct",
        "flag_only",
        "benchmarks",
        "scope",
        "never_relabel",
    } <= kinds
    assert all(t.guidance and t.reworded and t.expect for t in suite.tasks)


@pytest.mark.slow
def test_guidance_changes_the_outcome_and_the_offline_reader_follows_it(tmp_path):
    from copilot.core.config import Settings
    from copilot.evaluation.guidance_eval import run_guidance_suite

    suite = load_suite("guidance")
    suite.tasks = [t for t in suite.tasks if t.name in ("tickets-keep-paraphrases", "tickets-scope-legal")]
    rows = run_guidance_suite(suite, tmp_path, Settings(), ["no-guidance", "offline", "offline-reworded"], str)
    by = {(r["task"], r["system"]): r for r in rows}
    for task in ("tickets-keep-paraphrases", "tickets-scope-legal"):
        assert not by[task, "no-guidance"]["obeyed"]
        assert by[task, "offline"]["followed"]
        reworded = by[task, "offline-reworded"]
        assert reworded["followed"] or reworded["refused"]  # never read wrong
