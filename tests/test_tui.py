"""`curate chat`: a whole offline session through Textual's Pilot, text snapshots of the screens at 80x24, and
the real command driven in tmux."""

from __future__ import annotations

import asyncio
import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from copilot.review.policy import load_policy
from copilot.run.run_config import RunConfig
from copilot.run.session import Session

from .conftest import EXAMPLE

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _session(tmp_path) -> Session:
    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    config = RunConfig(data=str(data), policy=load_policy("review"))
    return Session.start(config, tmp_path / "session")


async def _until(pilot, condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the UI"
        await pilot.pause(0.1)


def screen_text(app) -> str:
    """The screen as plain text lines (from the SVG screenshot), with timings masked so snapshots are stable."""
    svg = app.export_screenshot()
    lines: dict[float, list[tuple[float, str]]] = {}
    for x, y, content in re.findall(r'<text[^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        text = html.unescape(content).replace("\xa0", " ")
        lines.setdefault(float(y), []).append((float(x), text))
    rows = ["".join(t for _, t in sorted(parts)).rstrip() for _, parts in sorted(lines.items())]
    text = re.sub(r"\d+(\.\d+)?s\b", "#s", "\n".join(rows))
    return re.sub(r"(\d+%)[-:\d]+", r"\1", text)  # a progress bar's time left: "--:--" or "00:00" by timing


async def settled_text(pilot, app) -> str:
    """The screen once three captures 0.2 s apart agree, animations done: late repaints (a scrollbar, a table's
    column widths under a loaded CI machine) land before the comparison."""
    await pilot.wait_for_scheduled_animations()
    text, agreeing = screen_text(app), 1
    for _ in range(40):
        await pilot.pause(0.2)
        again = screen_text(app)
        agreeing = agreeing + 1 if again == text else 1
        text = again
        if agreeing == 3:
            break
    return text


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} screen changed; rerun with UPDATE_SNAPSHOTS=1 if intended"


SIZES = [pytest.param((80, 24), "", id="80x24"), pytest.param((120, 35), "_120x35", id="120x35")]


@pytest.mark.slow
@pytest.mark.parametrize(("size", "suffix"), SIZES)
def test_a_whole_session_review_apply_undo_export(tmp_path, size, suffix):
    from copilot.tui.app import CurateApp
    from copilot.tui.history import HistoryScreen
    from copilot.tui.prompt import Confirm
    from copilot.tui.review import ReviewScreen

    session = _session(tmp_path)
    app = CurateApp(session)

    async def walk() -> dict:
        seen = {}
        async with app.run_test(size=size) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, ReviewScreen))
            await pilot.pause(0.2)
            assert "dedup" in app.steps  # the plan is shown
            review = app.screen
            assert review.proposal.tool == "dedup"
            seen["main_plan_rows"] = app.query_one("#plan").row_count
            table = review.query_one("#findings")
            first = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            seen["kept_by_toggle"] = next(f.row_id for f in review.proposal.findings if f.finding_id == first)
            seen["dedup_drops"] = {f.row_id for f in review.proposal.findings}
            await _until(pilot, lambda: "confirm" in screen_text(app))  # footer painted: the screen has settled
            check_snapshot("review_dedup" + suffix, await settled_text(pilot, app))
            await pilot.press("space")  # toggle the first row: it stays
            await pilot.press("enter")
            await _until(
                pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.proposal.tool == "label-errors"
            )
            review = app.screen
            label_finding = next(f for f in review.proposal.findings if f.action.type.value == "relabel")
            table = review.query_one("#findings")
            await _until(
                pilot, lambda: label_finding.finding_id in table.rows
            )  # the table fills after the screen shows
            table.move_cursor(row=table.get_row_index(label_finding.finding_id))
            await pilot.press("l")
            await pilot.pause()
            app.screen.query_one("#answer").value = "atm_support"
            await pilot.press("enter")  # the new label
            await pilot.pause()
            seen["relabelled"] = label_finding.row_id
            seen["other_relabels"] = {
                f.row_id: f.action.new_label
                for f in review.proposal.findings
                if f.action.type.value == "relabel" and f.row_id != label_finding.row_id
            }
            await pilot.press("enter")  # confirm: approve
            await _until(pilot, lambda: session.status == "finished" and not app.running)
            await pilot.pause(0.3)
            check_snapshot("main_finished" + suffix, await settled_text(pilot, app))
            assert app.focused is app.query_one("#prompt")  # after a review, typing goes to the command box
            await pilot.press("escape", "h")  # leave the box, then the history key
            await _until(pilot, lambda: isinstance(app.screen, HistoryScreen))
            check_snapshot("history" + suffix, await settled_text(pilot, app))
            version = session.state().version
            await pilot.press("u")  # undo the selected (first) decision: asked first
            await _until(pilot, lambda: isinstance(app.screen, Confirm))
            await pilot.press("y", "escape")  # a typed key never confirms; escape keeps things as they are
            await _until(pilot, lambda: isinstance(app.screen, HistoryScreen))
            assert session.state().version == version
            await pilot.press("u")
            await _until(pilot, lambda: isinstance(app.screen, Confirm))
            await pilot.press("enter")  # yes: the dedup drops come back
            await _until(pilot, lambda: session.state().version == version + 1)
            await pilot.press("escape")
            await pilot.pause()
            seen["plan_after_undo"] = dict(app.steps)
            prompt = app.query_one("#prompt")
            prompt.focus()
            prompt.value = "export final.csv"
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press("ctrl+q")
        return seen

    seen = asyncio.run(walk())
    assert seen["main_plan_rows"] >= 1
    assert seen["plan_after_undo"]["dedup"] == "undone" and seen["plan_after_undo"]["label-errors"] == "applied 29"
    exported = pd.read_csv(tmp_path / "session" / "final.csv").set_index("ticket_id")
    original = pd.read_csv(EXAMPLE).set_index("ticket_id")
    assert set(exported.index) == set(original.index)  # the dedup decision was undone: every row is back
    assert exported.loc[seen["relabelled"], "intent"] == "atm_support"  # the person's label, not the suggestion
    for row, label in seen["other_relabels"].items():
        assert exported.loc[row, "intent"] == label  # approved suggestions applied


def test_offline_commands_say_what_needs_an_llm(tmp_path):
    from copilot.api.chat_commands import ChatCommands

    session = _session(tmp_path)
    coordinator = ChatCommands(session)
    assert "skip TOOL" in coordinator.handle("help").text
    assert "need" in coordinator.handle("why did you flag row 812?").text  # free text: needs an LLM
    assert coordinator.handle("skip label-errors").text.startswith("label-errors will be left out")
    assert session.config.skip == ["label-errors"] and "label-errors" in Session.resume(session.out_dir).config.skip
    assert coordinator.handle("export ../../etc/x.csv").text.startswith("export NAME")  # stays in the session folder
    assert "T0000" in coordinator.handle("show 3").text
    assert coordinator.handle("continue").action == "continue"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_real_curate_chat_in_tmux_one_approval_then_quit(tmp_path):
    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    name = f"curate-test-{os.getpid()}"
    folder = tmp_path / "session"
    command = f"{sys.executable} -m copilot.cli chat {data} --session {folder}; echo EXITED $?; sleep 60"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24", command], check=True)

    def screen() -> str:
        return subprocess.run(["tmux", "capture-pane", "-t", name, "-p"], capture_output=True, text=True).stdout

    def wait_for(text: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = screen()
            if text in shown:
                return shown
            time.sleep(0.3)
        raise AssertionError(f"'{text}' never appeared; the screen shows:\n{screen()}")

    try:
        wait_for("⏎ confirm")  # the review screen of the first proposal, key bindings shown
        for _ in range(3):  # a key sent while the terminal is still settling can be lost: send again if so
            subprocess.run(["tmux", "send-keys", "-t", name, "Enter"], check=True)  # approve
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and "dedup (1/1)" in screen():
                time.sleep(0.3)
            if "dedup (1/1)" not in screen():
                break
        wait_for("label-errors")  # dedup applied, the next round runs
        subprocess.run(["tmux", "send-keys", "-t", name, "C-q"], check=True)
        wait_for("EXITED 0", timeout=30)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    changes = Session.resume(folder).history()
    assert changes and changes[0].tool == "dedup" and changes[0].decided_by == "human"


def test_cancel_a_running_tool_then_continue(tmp_path):
    session = _session(tmp_path)
    kinds = []
    for event in session.events():
        kinds.append(event.kind)
        if event.kind == "step_started":
            session.cancel()
    assert session.status == "cancelled" and "proposal_ready" not in kinds
    resumed = Session.resume(session.out_dir)
    list(resumed.events())  # the cancelled step runs again and the run goes on to the review
    assert resumed.status == "waiting" and resumed.pending


def test_quit_mid_review_and_resume_returns_to_the_same_decisions(tmp_path):
    session = _session(tmp_path)
    list(session.events())
    waiting = {p.finding_id for p in session.pending}
    again = Session.resume(session.out_dir)
    assert {p.finding_id for p in again.pending} == waiting
    list(again.events())
    assert again.status == "waiting" and {p.finding_id for p in again.pending} == waiting


@pytest.mark.parametrize(("size", "suffix"), SIZES)
def test_help_screen_lists_the_keys(tmp_path, size, suffix):
    from copilot.tui.app import CurateApp
    from copilot.tui.help import HelpScreen

    session = _session(tmp_path)
    session.skip("dedup")
    session.skip("label-errors")  # nothing to run: the app idles on the main screen
    app = CurateApp(session)

    async def walk() -> str:
        async with app.run_test(size=size) as pilot:
            await _until(pilot, lambda: session.status == "finished" and not app.running)
            await pilot.press("escape", "question_mark")  # leave the command box: "?" there is text
            await _until(pilot, lambda: isinstance(app.screen, HelpScreen))
            shown = await settled_text(pilot, app)
            check_snapshot("help" + suffix, shown)
            await pilot.press("escape")
            await pilot.press("ctrl+q")
            return shown

    shown = asyncio.run(walk())
    for key in ("approve all", "toggle row", "change label", "undo selected", "cancel running tool"):
        assert key in shown
    assert "show [N]" in shown and "undo [N] / redo [N]" in shown  # plain text: not eaten as markup


def test_free_questions_go_to_the_llm(tmp_path, monkeypatch):
    import json as jsonlib

    from copilot.api.chat_commands import ChatCommands
    from copilot.llm.fake_server import FakeOpenAIServer, ScriptedChat

    script = ScriptedChat([jsonlib.dumps({"reply": "Row T0028's label disagrees with its 5 nearest neighbours."})])
    with FakeOpenAIServer(chat=script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        session = _session(tmp_path)
        reply = ChatCommands(session).handle("why did you flag row T0028?")
    script.assert_complete()
    assert reply.text.startswith("Row T0028's label") and "<data>" in script.calls[0]["messages"][1]["content"]


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_typed_text_after_a_resume_never_acts_as_keys(tmp_path):
    """`why x` and `hy` typed into a resumed chat: into the command box while it has the focus; and with the
    focus elsewhere, `h` may open the history but `y` there only asks, and a review's `x` only asks too."""
    from copilot.tui.app import CurateApp
    from copilot.tui.history import HistoryScreen
    from copilot.tui.prompt import Confirm
    from copilot.tui.review import ReviewScreen

    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    folder = tmp_path / "session"
    finished = Session.start(RunConfig(data=str(data), policy=load_policy("approve-all")), folder)
    for _ in finished.events():
        pass
    finished.undo()  # an undone decision: a stray `y` in the history would redo it
    finished.close()
    resumed = Session.resume(folder)
    version = resumed.state().version
    app = CurateApp(resumed)

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: not app.running and resumed.status == "finished")
            await pilot.press(*"why x", "h", "y")
            assert app.query_one("#prompt").value == "why xhy" and len(app.screen_stack) == 1
            await pilot.press("tab", *"hy")  # Tab stays in the box: nothing else takes the focus
            assert app.query_one("#prompt").value == "why xhyhy"
            await pilot.press("escape", "h")  # the box left on purpose: h opens the history
            await _until(pilot, lambda: isinstance(app.screen, HistoryScreen))
            await pilot.press(*"why x")  # y asks first; the rest are not keys there
            await _until(pilot, lambda: isinstance(app.screen, Confirm))
            await pilot.press("h", "y", "escape", "escape")
            await _until(pilot, lambda: len(app.screen_stack) == 1)
            await pilot.press("ctrl+q")

    asyncio.run(walk())
    assert resumed.state().version == version

    (tmp_path / "w").mkdir()
    waiting = _session(tmp_path / "w")
    app = CurateApp(waiting)

    async def review() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.ready)
            before = dict(app.screen.answers)
            await pilot.press(*"why")  # no screen opens from a review, nothing changes
            assert isinstance(app.screen, ReviewScreen) and app.screen.answers == before
            await pilot.press("x")  # reject all: asked first
            await _until(pilot, lambda: isinstance(app.screen, Confirm))
            await pilot.press("escape")
            await _until(pilot, lambda: isinstance(app.screen, ReviewScreen))
            assert app.screen.answers == before
            await pilot.press("ctrl+q")

    asyncio.run(review())
    assert waiting.state().version == 1


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_the_label_picker_shows_its_list_and_the_chosen_label_whole_at_80x24(tmp_path):
    from textual.widgets import OptionList

    from copilot.tui.app import CurateApp
    from copilot.tui.label_picker import LabelPicker
    from copilot.tui.review import ReviewScreen

    session = _session(tmp_path)
    app = CurateApp(session)

    async def walk() -> tuple[int, str, str, int]:
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.proposal.tool == "dedup")
            await pilot.press("enter")
            await _until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.proposal.tool != "dedup")
            review = app.screen
            finding = next(f for f in review.proposal.findings if f.issue == "label_error")
            table = review.query_one("#findings")
            await _until(pilot, lambda: finding.finding_id in table.rows)  # the table fills after the screen shows
            table.move_cursor(row=table.get_row_index(finding.finding_id))
            await pilot.press("l")
            await _until(pilot, lambda: isinstance(app.screen, LabelPicker))
            picker = app.screen
            picker.query_one("#answer").value = "apple_pay"  # narrows to the longest class name
            options = picker.query_one("#classes", OptionList)
            await _until(pilot, lambda: options.option_count == 1 and options.size.height > 0)
            rows = options.size.height
            await pilot.press("enter")
            await _until(pilot, lambda: app.screen is review and "apple_pay" in str(review._answer_text(finding)))
            await pilot.pause()
            cell = table.get_cell(finding.finding_id, review.action_column).plain
            column = table.columns[review.action_column]
            evidence = str(review.query_one("#evidence").content)
            return rows, evidence, cell, column.content_width if column.auto_width else column.width

    rows, shown, cell, width = asyncio.run(walk())
    assert rows >= 3, f"the class list is {rows} row(s) high at 80x24"
    assert cell == "relabel → apple_pay_or_google_pay" and width >= len(cell)  # the column grew to hold it
    assert shown.startswith("your answer: ✓ relabel → apple_pay_or_google_pay")  # and the evidence says it whole


def _near_copies(tmp_path, copies: int = 14):
    """The tickets with `copies` more near copies (a word inserted): intended paraphrases, say."""
    frame = pd.read_csv(EXAMPLE, dtype=str)
    extra = frame.iloc[100 : 100 + copies].copy()
    extra["text"] = extra["text"].str.replace(" ", " really ", n=1, regex=False)
    extra["ticket_id"] = [f"P{n:03d}" for n in range(copies)]
    data = tmp_path / "tickets.csv"
    pd.concat([frame, extra]).to_csv(data, index=False)
    return data


def test_review_learns_a_rule_the_person_accepts_and_undo_takes_it_back(tmp_path):
    """The person keeps near duplicates one by one (space on each): the co-pilot proposes keeping every near
    duplicate, the person accepts with g, the rest are decided by the rule and the apply obeys it; G takes it back."""
    from copilot.agents.recipe import Recipe, RecipeStep
    from copilot.tui.app import CurateApp
    from copilot.tui.review import ReviewScreen

    recipe = Recipe(plan="steps", steps=[RecipeStep(tool="dedup")])
    config = RunConfig(data=str(_near_copies(tmp_path)), policy=load_policy("review"), recipe=recipe)
    session = Session.start(config, tmp_path / "run")
    app = CurateApp(session)

    async def walk() -> dict:
        seen = {}
        async with app.run_test(size=(120, 35)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.ready)
            review = app.screen
            near = {f.finding_id for f in review.proposal.findings if f.issue == "near_duplicate"}
            seen["near"] = near
            table = review.query_one("#findings")
            for _ in range(len(near)):  # reject the near duplicates one by one, as the queue brings them up
                if review.suggested is not None:
                    break
                for row in range(table.row_count):
                    fid = table.coordinate_to_cell_key((row, 0)).row_key.value
                    if fid in near and fid not in review.touched:
                        table.move_cursor(row=row)
                        break
                await pilot.press("space")
            seen["rejected_by_person"] = sum(review.answers[f] == "reject" for f in review.touched)
            seen["suggestion"] = review.suggested.text if review.suggested else None
            await pilot.press("g")
            await _until(pilot, lambda: bool(review.learned))
            seen["decided_by_rule"] = set(review.by_guidance)
            seen["guidance_after_accept"] = session.guidance().describe()
            await pilot.press("G")
            await _until(pilot, lambda: not review.learned)
            seen["guidance_after_undo"] = session.guidance().describe()
            seen["locked_after_undo"] = set(review.by_guidance)
            seen["suggested_again"] = review.suggested is not None
            await pilot.press("g")  # accepted again, then the review confirmed: the apply obeys it
            await _until(pilot, lambda: bool(review.learned))
            await pilot.press("enter")
            await _until(pilot, lambda: session.status == "finished")
            await pilot.press("ctrl+q")
        return seen

    seen = asyncio.run(walk())
    assert len(seen["near"]) >= 10
    assert seen["rejected_by_person"] >= 6
    assert seen["suggestion"] and "near duplicate" in seen["suggestion"]
    assert seen["decided_by_rule"] and seen["decided_by_rule"] <= seen["near"]  # the pending near duplicates, no other
    assert seen["guidance_after_accept"] == ["keep rows found as near duplicate"]
    assert seen["guidance_after_undo"] == [] and not seen["locked_after_undo"] and seen["suggested_again"]
    assert session.guidance().describe() == ["keep rows found as near duplicate"]
    edits = session.applied_edits()
    assert not any(e.issue == "near_duplicate" and e.action.value == "drop" for _, e in edits)
    assert any(e.issue == "exact_duplicate" and e.action.value == "drop" for _, e in edits)  # the rest still done
    session.close()


def test_an_accepted_rule_holds_in_the_ledger_whoever_answers(tmp_path):
    """With a learned rule in force, near duplicates approved anyway (a stale screen, a decisions file) are decided
    by guidance and never dropped; the next round's proposals obey it too."""
    from copilot.core.guidance import Guidance, GuidanceRule

    config = RunConfig(data=str(_near_copies(tmp_path)), policy=load_policy("review"))
    session = Session.start(config, tmp_path / "run")
    for _ in session.events():
        pass
    assert session.status == "waiting" and any(p.issue == "near_duplicate" for p in session.pending)
    session.add_guidance(GuidanceRule(guidance=Guidance(keep_issues=["near_duplicate"]), source="review"))
    while session.status == "waiting":
        session.decide({p.finding_id: "approve" for p in session.pending})
        for _ in session.events():
            pass
    edits = session.applied_edits()
    assert any(e.issue == "exact_duplicate" and e.action.value == "drop" for _, e in edits)
    assert not any(e.issue == "near_duplicate" and e.action.value == "drop" for _, e in edits)
    session.close()


def test_the_chat_shows_the_guidance_in_force_before_the_run(tmp_path):
    from copilot.tui.app import CurateApp

    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    config = RunConfig(data=str(data), policy=load_policy("review"), goal="keep exact duplicates")
    session = Session.start(config, tmp_path / "session")
    app = CurateApp(session)

    async def walk() -> str:
        async with app.run_test(size=(120, 35)) as pilot:
            await _until(pilot, lambda: "Guidance in force" in screen_text(app))
            text = screen_text(app)
            await pilot.press("ctrl+q")
            return text

    assert "#1 keep rows found as exact duplicate" in asyncio.run(walk())
    session.close()


def test_redactions_approved_in_the_tui_are_forgotten_by_the_session_worker(tmp_path):
    """The session's run loop is a worker thread in the TUI: forgetting opens that thread's own ledger connection,
    and the main screen keeps reading the workspace after the input's copy is gone."""
    import json

    from copilot.agents.recipe import Recipe, RecipeStep
    from copilot.tui.app import CurateApp
    from copilot.tui.review import ReviewScreen

    from .test_pii import CHATS, TRUTH, _every_file_holds

    data = tmp_path / "chats.jsonl"
    shutil.copy(CHATS, data)
    recipe = Recipe(steps=[RecipeStep(tool="pii", params={"kinds": ["email", "card"]})])
    session = Session.start(RunConfig(data=str(data), policy=load_policy("review"), recipe=recipe), tmp_path / "s")
    app = CurateApp(session)
    values = [p["value"] for p in TRUTH if p["kind"] in ("email", "card")]

    async def walk() -> str:
        async with app.run_test(size=(120, 35)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, ReviewScreen))
            await pilot.press("enter")  # redactions are pre-set to approve: enter applies them
            await _until(pilot, lambda: session.status == "finished" and not _every_file_holds(tmp_path / "s", values))
            await pilot.pause()
            text = screen_text(app)
            await pilot.press("ctrl+q")
            return text

    text = asyncio.run(walk())
    assert "error" not in text.lower()
    assert "[EMAIL" in json.dumps(session.curated()["messages"].tolist())
