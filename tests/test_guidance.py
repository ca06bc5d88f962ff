"""Guidance: the person's words become constraints (or are refused, quoted), and no edit of a run breaks them,
whoever approved it: planners, the review node and the ledger's apply each enforce it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from copilot.core.decisions import HUMAN, Decision, FindingDecision
from copilot.core.guidance import Guidance, GuidanceRule, RowScope, edit_refusal
from copilot.ledger import Ledger
from copilot.review.guidance_words import GuidanceParser, GuidanceVocabulary
from copilot.review.policy import load_policy
from copilot.run.run_config import RunConfig
from copilot.run.session import Session
from curation_tools.io import load_dataset
from curation_tools.roles import RoleOverrides
from curation_tools.schema import Action, ActionType, Evidence, Finding, Proposal

from .conftest import EXAMPLE

VOCAB = GuidanceVocabulary(
    classes=["card_arrival", "card_delivery_estimate", "lost_or_stolen_card", "top_up_failed"],
    columns={"source": ["app", "legal", "web"]},
    row_ids=[str(i) for i in range(50)],
    benchmarks=["/data/bank_test.jsonl", "/data/mmlu_sample.jsonl"],
)
NEAR = ["near_duplicate", "semantic_duplicate"]

# The documented phrasings (README, "Guidance"): each one and what it must become.
DOCUMENTED = [
    ("Don't change any labels", Guidance(never_relabel=True)),
    ("never relabel", Guidance(never_relabel=True)),
    ("the labels are correct", Guidance(never_relabel=True)),
    ("only flag", Guidance(flag_only=True)),
    ("don't change anything, just report", Guidance(flag_only=True)),
    ("keep the near duplicates, they are intended paraphrases", Guidance(keep_issues=NEAR)),
    ("near duplicates are intended", Guidance(keep_issues=NEAR)),
    ("keep exact duplicates", Guidance(keep_issues=["exact_duplicate"])),
    ("never touch rows labelled card_arrival", Guidance(protected_classes=["card_arrival"])),
    ("protect top up failed", Guidance(protected_classes=["top_up_failed"])),
    (
        "card_arrival and card_delivery_estimate are different on purpose",
        Guidance(distinct=[("card_delivery_estimate", "card_arrival")]),
    ),
    ("never merge lost_or_stolen_card and card_arrival", Guidance(distinct=[("lost_or_stolen_card", "card_arrival")])),
    ("only curate rows where source is web", Guidance(scope=[RowScope(column="source", values=["web"])])),
    (
        "never touch the rows from the legal team",
        Guidance(scope=[RowScope(column="source", values=["legal"], mode="never")]),
    ),
    ("skip augmentation", Guidance(tools_off=["augment"])),
    ("only run dedup", Guidance(tools_only=["dedup"])),
    ("set near_threshold to 0.9", Guidance(params={"dedup": {"near_threshold": 0.9}})),
    ("check against mmlu only", Guidance(benchmarks=["mmlu"])),
    ("don't touch rows 3, 4 and 5", Guidance(protected_rows=["3", "4", "5"])),
]


@pytest.mark.parametrize(("words", "expected"), DOCUMENTED, ids=[w for w, _ in DOCUMENTED])
def test_every_documented_phrasing_becomes_its_constraint(words, expected):
    parsed = GuidanceParser(VOCAB).parse(words)
    assert parsed.ok, parsed.refused
    assert parsed.guidance.model_copy(update={"purpose": ""}) == expected


@pytest.mark.parametrize(
    ("words", "why"),
    [
        ("please make it nicer", "not a phrasing"),
        ("card_arrival is interesting", "neither to protect"),
        ("set near_threshold to 3", "less than or equal to 1"),
        ("The benchmark is gsm8k", "none of this run's benchmark files"),
        ("only curate rows where region is emea", "column 'region'"),
        ("don't touch row 999", "the data does not have"),
    ],
)
def test_words_that_are_not_constraints_are_refused_with_the_reason(words, why):
    parsed = GuidanceParser(VOCAB).parse(words)
    assert not parsed.ok
    assert why in parsed.refused[0][1]


def test_one_unread_clause_refuses_the_whole_goal_quoting_it(cli, tmp_path):
    result = cli(
        "run",
        EXAMPLE,
        "--out",
        tmp_path / "run",
        "--policy",
        "approve-all",
        "--guidance-parser",
        "offline",
        "--goal",
        "Keep exact duplicates. Also make the tickets friendlier",
    )
    assert result.code == 2
    assert '"Also make the tickets friendlier"' in result.stderr
    assert not (tmp_path / "run" / "workspace").exists()  # nothing ran on a half-read instruction


def _ticket_run(tmp_path, goal: str, **config) -> tuple[Session, pd.DataFrame]:
    run = RunConfig(
        data=str(EXAMPLE), roles=RoleOverrides(id="ticket_id"), goal=goal, policy=load_policy("approve-all"), **config
    )
    session = Session.start(run, tmp_path / "run")
    for _ in session.events():
        pass
    assert session.status == "finished"
    return session, pd.read_csv(EXAMPLE, dtype=str).set_index("ticket_id")


@pytest.mark.slow
@pytest.mark.parametrize(
    "goal",
    [
        "Don't change any labels; keep the near duplicates",
        "never touch rows labelled change_pin. keep exact duplicates",
        "edit_personal_details and terminate_account are different on purpose",
        "only flag",
    ],
)
def test_no_edit_of_a_run_breaks_its_guidance(tmp_path, goal):
    session, raw = _ticket_run(tmp_path, goal)
    guidance = session.guidance()
    assert not guidance.is_empty()
    edits = session.applied_edits()
    assert edits, "the run still did its job where the guidance allows"
    for tool, edit in edits:
        row = raw.loc[edit.row_id].to_dict() if edit.row_id in raw.index else None
        assert edit_refusal(guidance, tool, edit.action, edit.issue, edit.row_id, row, "intent", edit.new_value) is None
    summary = json.loads((session.out_dir / "summary.json").read_text())
    assert summary["goal"] == goal and summary["guidance"][0]["constraints"] == guidance.describe()
    assert "Guidance in force" in (session.out_dir / "report.md").read_text()
    session.close()


def test_guidance_changes_what_a_run_does(tmp_path):
    session, _ = _ticket_run(tmp_path, "Don't change any labels; keep the near duplicates")
    actions = {(tool, e.action.value, e.issue) for tool, e in session.applied_edits()}
    assert ("label-errors", "relabel", "label_error") not in actions
    assert ("label-errors", "flag", "label_error") in actions  # the doubt is still listed
    assert not any(issue == "near_duplicate" and action == "drop" for _, action, issue in actions)
    assert ("dedup", "drop", "exact_duplicate") in actions
    session.close()


def _ledger_with_rows(tmp_path) -> Ledger:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "text": ["x y", "y z", "z w"], "label": ["p", "q", "q"]})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    data, _ = load_dataset(str(path), RoleOverrides(id="id", label="label", text=["text"]))
    return Ledger.open_or_create(tmp_path / "ws", data)


def test_the_ledger_refuses_an_edit_that_breaks_guidance_whoever_approved_it(tmp_path):
    ledger = _ledger_with_rows(tmp_path)
    rule = ledger.add_guidance(GuidanceRule(guidance=Guidance(distinct=[("p", "q")], protected_rows=["c"])))
    findings = [
        Finding(
            finding_id="f1",
            row_id="a",
            issue="label_error",
            score=0.9,
            action=Action(type=ActionType.relabel, new_label="q"),
            evidence=Evidence(given_label="p"),
        ),
        Finding(finding_id="f2", row_id="c", issue="exact_duplicate", score=1.0, action=Action(type=ActionType.drop)),
        Finding(finding_id="f3", row_id="b", issue="exact_duplicate", score=1.0, action=Action(type=ActionType.drop)),
    ]
    proposal = Proposal(tool="dedup", tool_version="1", params={}, summary="", findings=findings)
    decision = Decision.uniform(proposal, approve=True, decided_by=HUMAN)
    result = ledger.apply(proposal, decision)
    assert [e.row_id for e in result.edits] == ["b"]
    reasons = {c.row_id: c.reason for c in result.conflicts}
    assert reasons["a"].startswith("guidance:") and "distinct" in reasons["a"]
    assert "protected" in reasons["c"]
    ledger.remove_guidance(rule.rule_id)
    assert ledger.guidance().is_empty()
    ledger.close()


def test_a_guidance_decision_is_a_flag_that_changes_nothing(tmp_path):
    ledger = _ledger_with_rows(tmp_path)
    finding = Finding(
        finding_id="f1",
        row_id="a",
        issue="label_error",
        score=0.9,
        action=Action(type=ActionType.relabel, new_label="q"),
    )
    proposal = Proposal(tool="label-errors", tool_version="1", params={}, summary="", findings=[finding])
    decision = Decision(
        proposal_id=proposal.proposal_id,
        findings={"f1": FindingDecision(finding_id="f1", approve=True, as_flag=True, decided_by="guidance")},
    )
    result = ledger.apply(proposal, decision)
    assert [e.action for e in result.edits] == [ActionType.flag]
    assert ledger.dataset().frame.loc["a", "label"] == "p"
    ledger.close()


def test_chat_reads_what_a_person_knows_and_asks_about_what_it_cannot(tmp_path):
    from copilot.api.chat_commands import ChatCommands

    config = RunConfig(data=str(EXAMPLE), roles=RoleOverrides(id="ticket_id"), policy=load_policy("review"))
    session = Session.start(config, tmp_path / "chat")
    chat = ChatCommands(session)
    reply = chat.handle("keep the near duplicates, they are intended paraphrases")
    assert "in force" in reply.text and "near duplicate" in reply.text
    asked = chat.handle("never touch rows labelled change_pin and make them shine")
    assert '"never touch rows labelled change_pin and make them shine"' in asked.text or "make them shine" in asked.text
    assert "changed nothing" in asked.text
    assert [r.source for r in session.guidance_rules()] == ["chat"]
    listed = chat.handle("guidance")
    assert listed.text.startswith("#1 (chat)")
    assert "Took back" in chat.handle("unguide 1").text and session.guidance().is_empty()
    session.close()


@pytest.mark.parametrize(
    ("words", "expected"),
    [  # found by a person trying the feature: each of these once lost or refused part of what was said
        ("don't relabel anything and keep the near duplicates", Guidance(never_relabel=True, keep_issues=NEAR)),
        ("leave change_pin alone and never relabel", Guidance(protected_classes=["change_pin"], never_relabel=True)),
        ("don't touch row T0280", Guidance(protected_rows=["T0280"])),
        (
            "only curate rows where intent is atm_support",
            Guidance(scope=[RowScope(column="intent", values=["atm_support"])]),
        ),
        # rows of a label that never change are the class protected: nothing is relabelled into it either
        ("never touch rows where intent is change_pin", Guidance(protected_classes=["change_pin"])),
        ("check against bank_eval.jsonl only", Guidance(benchmarks=["bank_eval.jsonl"])),
        ("only look for duplicates", Guidance(tools_only=["dedup"])),
    ],
)
def test_what_a_new_user_typed_is_read_whole(words, expected):
    vocab = GuidanceVocabulary(
        classes=["atm_support", "change_pin"],
        columns={"intent": ["atm_support", "change_pin"]},
        label_column="intent",
        row_ids=["T0280", "T0331"],
        benchmarks=["/x/bank_eval.jsonl:query"],
    )
    parsed = GuidanceParser(vocab).parse(words)
    assert parsed.ok, parsed.refused
    assert parsed.guidance == expected


def test_a_class_the_data_does_not_hold_is_named_in_the_refusal():
    parsed = GuidanceParser(VOCAB).parse("protect card_arival")
    assert parsed.refused == [
        ("protect card_arival", "'card_arival' is not a class of the label column (did you mean card_arrival?)")
    ]
