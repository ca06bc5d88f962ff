"""Human review that cannot go wrong: a label a person gives is one of the column's classes, and a refused
answer leaves the session waiting as it was."""

from __future__ import annotations

import asyncio
import shutil

import pandas as pd
import pytest

from copilot.review.policy import load_policy
from copilot.run.run_config import RunConfig
from copilot.run.session import Session
from curation_tools.errors import UserInputError
from curation_tools.text import natural_key

from .conftest import EXAMPLE


def _waiting_session(tmp_path) -> Session:
    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    session = Session.start(RunConfig(data=str(data), policy=load_policy("review")), tmp_path / "session")
    list(session.events())
    assert session.status == "waiting"
    return session


def test_a_label_that_is_not_a_class_is_refused_and_the_session_stays_waiting(tmp_path):
    session = _waiting_session(tmp_path)
    pending = list(session.pending)
    first = pending[0].finding_id
    with pytest.raises(UserInputError, match=r"label 'atm_suport' is not a class .* Did you mean 'atm_support'"):
        session.decide({first: {"approve": True, "new_label": "atm_suport"}})
    assert session.status == "waiting" and session.pending == pending
    session.decide({first: {"approve": True, "new_label": "atm_support"}})  # a class: accepted
    list(session.events())
    assert session.status in {"waiting", "finished"}


def test_label_classes_are_the_columns_values_in_natural_order(tmp_path):
    session = _waiting_session(tmp_path)
    classes = session.label_classes()
    assert "atm_support" in classes and classes == sorted(classes, key=natural_key)
    assert sorted(["T1003", "T103", "T2"], key=natural_key) == ["T2", "T103", "T1003"]


def test_the_label_picker_offers_only_classes_and_picks_by_name(tmp_path):
    """`l` in the review opens a picker: typing narrows the classes, Enter picks the highlighted one, and a text
    that matches no class picks nothing."""
    from textual.app import App

    from copilot.tui.label_picker import LabelPicker

    picked: list[str | None] = []

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(LabelPicker("New label:", ["card_arrival", "card_linking", "atm_support"]), picked.append)

    async def walk() -> None:
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"link")
            await pilot.press("enter")
            await pilot.pause()
            app.push_screen(LabelPicker("New label:", ["a", "b"]), picked.append)
            await pilot.pause()
            await pilot.press(*"zzz", "enter")  # matches nothing: the picker stays open
            await pilot.pause()
            assert isinstance(app.screen, LabelPicker)
            await pilot.press("escape")
            await pilot.pause()
            app.push_screen(LabelPicker("New label:", ["closing tag [/] here", "INJ[/]"]), picked.append)
            await pilot.pause()
            await pilot.press(*"inj", "enter")  # a class name with markup is plain text, and a valid choice
            await pilot.pause()
            coded = LabelPicker("New label:", ["11", "12"], "11", names={"11": "card_arrival", "12": "card_linking"})
            app.push_screen(coded, picked.append)
            await pilot.pause()
            assert app.screen.query_one("#answer").value == "card_arrival"  # the suggestion, by name
            app.screen.query_one("#answer").value = "linking"  # chosen by name, returned as its code
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()

    asyncio.run(walk())
    assert picked == ["card_linking", None, "INJ[/]", "12"]


def test_an_integer_label_column_takes_a_picked_class_as_an_integer(tmp_path):
    frame = pd.read_csv(EXAMPLE)
    codes = {name: i for i, name in enumerate(sorted(frame["intent"].unique()))}
    frame["intent"] = frame["intent"].map(codes)
    data = tmp_path / "coded.csv"
    frame.to_csv(data, index=False)
    session = Session.start(RunConfig(data=str(data), policy=load_policy("review")), tmp_path / "s")
    list(session.events())
    assert session.label_classes() == [str(i) for i in range(len(codes))]
    with pytest.raises(UserInputError, match="'spam' is not a class"):
        session.decide({session.pending[0].finding_id: {"approve": True, "new_label": "spam"}})
    assert session.status == "waiting"


async def until(pilot, condition) -> None:
    """Wait on the UI's observable state (no fixed sleep): up to 2 minutes."""
    for _ in range(1200):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError("timed out waiting for the UI")


def test_escape_on_a_review_keeps_its_changes_and_r_and_a_resumed_chat_return_to_them(tmp_path):
    from copilot.tui.app import CurateApp
    from copilot.tui.review import ReviewScreen

    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    folder = tmp_path / "session"
    session = Session.start(RunConfig(data=str(data), policy=load_policy("review")), folder)

    async def walk(app, first_visit: bool) -> tuple[dict, int]:
        async with app.run_test(size=(80, 24)) as pilot:
            # mounted, not only pushed: the table filled and the cursor where the draft left it
            await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.ready)
            review = app.screen
            if first_visit:
                await pilot.press("space", "down", "down")  # one change, then two rows on
                await pilot.press("escape")  # leave: nothing decided, nothing lost
                await until(pilot, lambda: not isinstance(app.screen, ReviewScreen))
                assert session.status == "waiting" and session.pending
                assert app.focused is app.query_one("#prompt")  # typing goes to the command box, no Tab needed
                await pilot.press("escape")  # leave the box: single keys act again
                await pilot.press("r")
                await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.ready)
                review = app.screen
            seen = dict(review.answers), review.query_one("#findings").cursor_row
            await pilot.press("ctrl+q")
            return seen

    answers, row = asyncio.run(walk(CurateApp(session), first_visit=True))
    changed = {f for f, a in answers.items() if a == "reject"}
    assert len(changed) == 1 and row == 2  # r opened the review as it was left
    session.close()
    resumed = Session.resume(folder)  # a new process: `curate chat --resume`
    assert asyncio.run(walk(CurateApp(resumed), first_visit=False)) == (answers, 2)


def test_a_review_that_keeps_no_draft_asks_before_escape_throws_its_changes_away(tmp_path):
    from textual.app import App

    from copilot.tui.prompt import Ask
    from copilot.tui.review import ReviewScreen

    session = _waiting_session(tmp_path)
    proposal = session.pending_proposals()[0]
    pending = {p.finding_id for p in session.pending}
    left: list[object] = []

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(ReviewScreen([proposal], {}, pending, {}), left.append)

    async def walk() -> None:
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
            review = app.screen
            await pilot.press("space", "escape")
            await until(pilot, lambda: isinstance(app.screen, Ask))
            await pilot.press("n", "enter")  # stay
            await until(pilot, lambda: app.screen is review)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, Ask))
            await pilot.press("y", "enter")
            await until(pilot, lambda: bool(left))

    asyncio.run(walk())
    assert left == [None]


def test_who_decided_is_recorded_per_finding_and_explain_says_it(cli, tmp_path):
    """A policy approves exact duplicates and asks a person about near ones: each row names its own decider, in
    changes.jsonl and in `curate explain`."""
    import json

    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    (tmp_path / "policy.yaml").write_text(
        "default: reject\nrules:\n  - {issue: exact_duplicate, decision: approve}\n"
        "  - {issue: near_duplicate, decision: ask}\n"
    )
    (tmp_path / "recipe.yaml").write_text("steps:\n  - tool: dedup\n")
    run = tmp_path / "run"
    first = cli("run", data, "--recipe", tmp_path / "recipe.yaml", "--policy", tmp_path / "policy.yaml", "--out", run)
    assert first.code == 3, first.stderr
    pending = json.loads((run / "pending.json").read_text())
    for item in pending:
        item["decision"] = "approve"
    (tmp_path / "decisions.json").write_text(json.dumps(pending))
    assert cli("run", "--resume", run, "--decisions", tmp_path / "decisions.json").code == 0
    changes = [json.loads(line) for line in (run / "changes.jsonl").read_text().splitlines()]
    deciders = {c["issue"]: c["decided_by"] for c in changes}
    assert deciders == {"exact_duplicate": "policy:policy.yaml", "near_duplicate": "human"}
    for change in (next(c for c in changes if c["issue"] == issue) for issue in deciders):
        explained = json.loads(
            cli("explain", change["row_id"], "--workspace", run / "workspace/ledger", "--json").stdout
        )
        assert explained["events"][0]["decided_by"] == change["decided_by"]


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_a_headless_run_without_a_terminal_prints_progress_lines(tmp_path):
    """On a pipe, a long stage prints plain progress lines (every CURATE_PROGRESS_EVERY seconds; 0 here: each
    progress event) and one when it completes; before, a step printed "started" and then nothing for minutes."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CURATE_PROGRESS_EVERY": "0", "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "copilot.cli", "run", str(EXAMPLE), "--policy", "approve-all"]
    result = subprocess.run([*command, "--out", str(tmp_path / "run")], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "  dedup: minhash: 512/512 (100%)" in lines
    assert any(line.startswith("  label-errors: ") and line.endswith("(100%)") for line in lines)
    quiet = subprocess.run(
        [*command, "--out", str(tmp_path / "quiet")],
        capture_output=True,
        text=True,
        env={**env, "CURATE_PROGRESS_EVERY": "600"},
    )
    assert quiet.returncode == 0 and "/512" not in quiet.stderr  # short stages add no lines


def test_review_sorts_row_ids_by_number_and_approves_by_the_score_it_shows(tmp_path):
    from textual.app import App

    from copilot.tui.review import ReviewScreen
    from curation_tools.schema import Action, Finding, Proposal

    findings = [
        Finding(row_id=row, issue="exact_duplicate", score=score, action=Action(type="drop"))
        for row, score in (("T1003", 0.95), ("T103", 0.895), ("T2", 0.5))
    ]
    proposal = Proposal(tool="dedup", tool_version="1", summary="3 rows", findings=findings)
    pending = {f.finding_id for f in findings}

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(ReviewScreen([proposal], {}, pending, {}))

    async def walk() -> tuple[list[str], dict[str, str]]:
        app = Host()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            review = app.screen
            await pilot.press("o")  # sort by row id
            await pilot.pause()
            table = review.query_one("#findings")
            rows = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
            await pilot.press("s")
            await pilot.pause()
            app.screen.query_one("#answer").value = "0.9"
            await pilot.press("enter")
            await pilot.pause()
            by_row = {f.row_id: review.answers[f.finding_id] for f in findings}
            return rows, by_row

    rows, answers = asyncio.run(walk())
    assert rows == ["T2", "T103", "T1003"]
    assert answers == {"T1003": "approve", "T103": "approve", "T2": "reject"}  # 0.895 shows as 0.90


def test_diff_says_how_many_lines_it_left_out(cli, tmp_path):
    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    findings = tmp_path / "dups.jsonl"
    assert cli("tools", "dedup", data, "--out", findings).code == 0
    assert cli("apply", data, findings).code == 0
    shown = cli("diff", data, "--limit", "5").stdout
    assert shown.count("  - ") == 5 and "... and 22 more removed rows (--limit N shows more, --json all)" in shown


def test_the_plan_panel_shows_a_cancelled_step_as_cancelled(tmp_path):
    from copilot.run.events import make_event
    from copilot.tui.app import CurateApp

    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    session = Session.start(RunConfig(data=str(data), policy=load_policy("review")), tmp_path / "session")
    for tool in ("dedup", "label-errors"):
        session.skip(tool)  # nothing runs: the events below are fed by hand
    app = CurateApp(session)

    async def walk() -> dict[str, str]:
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(600):
                if session.status == "finished" and not app.running:
                    break
                await pilot.pause(0.1)
            started = {"tool": "decontam", "params": {}, "reason": "r"}
            app.on_session_event(make_event(1, "t", "step_started", started))
            assert app.steps["decontam"] == "running"
            app.on_session_event(make_event(2, "t", "finished", {"status": "cancelled"}))
            await pilot.pause()
            steps = dict(app.steps)
            await pilot.press("ctrl+q")
            return steps

    assert asyncio.run(walk())["decontam"] == "cancelled"


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_undo_after_a_finished_run_rewrites_its_curated_file(tmp_path):
    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    session = Session.start(RunConfig(data=str(data), policy=load_policy("approve-all")), tmp_path / "run")
    list(session.events())
    assert session.status == "finished"
    before = pd.read_csv(tmp_path / "run" / "curated.csv")
    session.undo()  # the latest decision
    after = pd.read_csv(tmp_path / "run" / "curated.csv")
    assert after.equals(session.curated().reset_index(drop=True)[after.columns]) and not after.equals(before)
    resumed = Session.resume(tmp_path / "run")
    resumed.redo()
    assert pd.read_csv(tmp_path / "run" / "curated.csv").equals(before)


def test_label_evidence_shows_the_neighbours_texts():
    from copilot.review.evidence import Display
    from copilot.tui.review import evidence_text
    from curation_tools.schema import Action, Evidence, Finding, Neighbour

    finding = Finding(
        row_id="T1",
        issue="label_error",
        score=0.9,
        action=Action(type="relabel", new_label="card_arrival"),
        evidence=Evidence(
            given_label="atm_support",
            suggested_label="card_arrival",
            neighbours=[Neighbour(row_id="T7", label="card_arrival", similarity=0.91)],
        ),
    )
    shown = evidence_text(
        finding, "where is my card?", Display(view="labels"), {"T7": "my card has not arrived yet"}
    ).plain
    assert "T7 · card_arrival · 0.91   my card has not arrived yet" in shown


def test_a_resumed_chat_shows_its_conversation_so_far(tmp_path):
    from copilot.tui.app import CurateApp

    _waiting_session(tmp_path)
    resumed = Session.resume(tmp_path / "session")
    app = CurateApp(resumed)

    async def walk() -> str:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.5)
            lines = [strip.text for strip in app.query_one("#conversation").lines]
            await pilot.press("ctrl+q")
            return "\n".join(lines)

    shown = asyncio.run(walk())
    assert "Resumed session" in shown and "Round 1:" in shown and "dedup" in shown


def test_pending_json_carries_what_a_person_needs_and_round_trips(cli, tmp_path):
    import json

    run = tmp_path / "run"
    bench = EXAMPLE.with_name("bank_eval.jsonl")
    assert cli("run", EXAMPLE, "--benchmark", f"{bench}:query", "--out", run).code == 3
    pending = json.loads((run / "pending.json").read_text())
    by_tool = {item["tool"]: item for item in pending}
    assert by_tool["decontam"]["row"]["text"] and by_tool["decontam"]["evidence"]["benchmark_text"]
    assert (
        by_tool["dedup"]["evidence"]["kept_text"] and by_tool["dedup"]["row"]["ticket_id"] == by_tool["dedup"]["row_id"]
    )
    for item in pending:
        item["decision"] = "approve"
    (tmp_path / "decisions.json").write_text(json.dumps(pending))
    assert cli("run", "--resume", run, "--decisions", tmp_path / "decisions.json").code in (0, 3)


def test_a_review_sheet_is_filled_in_a_spreadsheet_and_resumes_the_run(cli, tmp_path):
    import csv
    import json

    run = tmp_path / "run"
    assert cli("run", EXAMPLE, "--out", run).code == 3  # review policy: everything waits
    made = cli("review", run)
    assert made.code == 0 and "curate run --resume" in made.stderr
    with (run / "review.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(json.loads((run / "pending.json").read_text()))
    assert all(r["row_text"] and r["proposed"] and r["decision"] == "" for r in rows)
    dup = next(r for r in rows if r["issue"] == "exact_duplicate")
    assert dup["evidence"].startswith("kept row ")
    for r in rows:
        r["decision"] = "approve"
    rows[-1]["decision"] = ""  # left undecided: rejected when the run resumes
    with (tmp_path / "filled.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert cli("run", "--resume", run, "--decisions", tmp_path / "filled.csv").code in (0, 3)
    first_round = {r["finding_id"] for r in rows[:-1]}
    explained = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert any(e["kind"] == "applied" for e in explained) and first_round
    bad = tmp_path / "bad.csv"
    bad.write_text("finding_id,decision\nabc,maybe\n")
    refused = cli("run", "--resume", run, "--decisions", bad)
    assert refused.code == 2 and "line 2: decision is approve, reject or empty, not 'maybe'" in refused.stderr


def test_review_sheet_cells_never_run_as_spreadsheet_formulas(tmp_path):
    import csv

    from copilot.core.decisions import PendingDetail
    from copilot.review.sheet import write_review_csv

    item = {
        "proposal_id": "p",
        "finding_id": "f1",
        "tool": "dedup",
        "issue": "exact_duplicate",
        "score": 1.0,
        "row_id": '=HYPERLINK("http://x")',
        "action": {"type": "drop"},
        "message": "+1",
        "row": {"text": "=1+1", "label": "a"},
        "evidence": {"given_label": "a", "given_label_name": "=cmd()"},
    }
    write_review_csv([PendingDetail.model_validate(item)], tmp_path / "s.csv", "label")
    with (tmp_path / "s.csv").open(newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["row_id"].startswith("'=") and row["message"] == "'+1" and row["row_text"] == "text: =1+1"
    assert row["given_label"] == "'=cmd() (a)"  # a label's name from the data is escaped too
