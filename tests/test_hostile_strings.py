"""Strings from data, file names, the user or the LLM are shown as typed, never parsed as markup or acted on:
every CLI output, the run report and every TUI screen."""

from __future__ import annotations

import asyncio
import json

import pytest

from copilot.cli.run import _show
from copilot.core.markdown import code, md
from copilot.review.policy import load_policy
from copilot.run.events import make_event
from copilot.run.run_config import RunConfig
from copilot.run.session import Session
from curation_tools.roles import RoleOverrides

from .hostile import HOSTILE, LABEL_COLUMN, hostile_csv


@pytest.fixture
def data(tmp_path):
    return hostile_csv(tmp_path)


def assert_clean(result, *codes: int) -> None:
    assert result.code in codes, (result.code, result.stderr[-2000:])
    assert "Traceback" not in result.stderr + result.stdout


def test_every_cli_output_shows_hostile_strings_as_typed(cli, data, tmp_path):
    label = ("--label", LABEL_COLUMN)
    assert_clean(cli("scan", data, *label), 0)
    assert_clean(cli("tools", "profile", data, *label), 0)
    folder = tmp_path / "run"
    run = cli("run", data, *label, "--policy", "approve-all", "--out", folder)
    assert_clean(run, 0)
    workspace = ("--workspace", folder / "workspace" / "ledger")
    assert_clean(cli("log", *workspace), 0)
    diff = cli("diff", *workspace, "--from", "1")
    assert_clean(diff, 0)
    assert "- INJ[/]" in diff.stdout
    explained = cli("explain", "INJ[/]", *workspace)
    assert_clean(explained, 0)
    assert "row INJ[/]: not in the current version" in explained.stdout
    assert_clean(cli("explain", "[@click=app.quit]quit[/]", *workspace), 0)
    missing = cli("run", tmp_path / "[/nope].csv", "--out", tmp_path / "x")
    assert_clean(missing, 2)
    assert "[/nope].csv" in missing.stderr
    wrong_label = cli("scan", data, "--label", "[/bold]labl")
    assert_clean(wrong_label, 2)
    assert "Did you mean '[/bold]label'?" in wrong_label.stderr


def test_the_report_renders_no_link_image_or_html_from_data(cli, data, tmp_path):
    folder = tmp_path / "run"
    assert_clean(cli("run", data, "--label", LABEL_COLUMN, "--policy", "approve-all", "--out", folder), 0)
    report = (folder / "report.md").read_text()
    for raw in ("<script>", "![x](", "](http", "[link="):
        assert raw not in report
    assert md("![x](http://a.invalid/p.png) <b>") == "\\!\\[x\\](http://a.invalid/p.png) \\<b\\>"
    assert (
        md("support_tickets.csv _x_ a&amp;b") == "support_tickets.csv \\_x\\_ a\\&amp;b"
    )  # no entity, no over-escaping
    assert code("a`b") == "`` a`b ``"


@pytest.mark.parametrize("bad", HOSTILE)
def test_run_progress_lines_print_llm_and_data_text_literally(capsys, bad):
    events = [
        make_event(1, "", "plan", {"round": 1, "planner": bad, "steps": [{"tool": bad}], "rationale": bad}),
        make_event(2, "", "step_started", {"tool": bad, "params": {}, "reason": bad}),
        make_event(
            3,
            "",
            "proposal_ready",
            {"tool": bad, "proposal_id": "p", "findings": 1, "summary": bad, "explanation": bad, "elapsed_s": 1},
        ),
        make_event(4, "", "applied", {"tool": bad, "proposal_id": "p", "edits": 1, "conflicts": 0}),
        make_event(5, "", "message", {"text": bad}),
    ]
    for event in events:
        _show(event)
    printed = capsys.readouterr().err
    visible = bad.replace("\x1b", "")  # rich drops the escape byte of control sequences
    assert printed.count(visible.split("\x1b")[0][:6]) >= 5


def _control_characters(app) -> list[str]:
    """Every rendered line of every widget on screen that would send a control character to the terminal
    (Textual writes a cell's text as it is)."""
    found = []
    for widget in app.screen.walk_children():
        if not widget.display or not widget.size.height:
            continue
        for y in range(widget.size.height):
            text = "".join(segment.text for segment in widget.render_line(y))
            if any(ord(c) < 32 and c not in "\n\t" for c in text):
                found.append(f"{type(widget).__name__}: {text.strip()[:80]!r}")
    return found


@pytest.mark.slow
def test_every_tui_screen_shows_hostile_strings_and_never_acts_on_them(data, tmp_path):
    from copilot.tui.app import CurateApp
    from copilot.tui.history import HistoryScreen
    from copilot.tui.review import ReviewScreen

    from .test_tui import _until, screen_text

    config = RunConfig(data=str(data), roles=RoleOverrides(label=LABEL_COLUMN), policy=load_policy("review"))
    session = Session.start(config, tmp_path / "session")
    app = CurateApp(session)

    escapes: list[str] = []

    async def walk() -> list[str]:
        seen = []
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(  # pushed and filled: the table's rows exist before any is selected
                pilot,
                lambda: (
                    isinstance(app.screen, ReviewScreen)
                    and app.screen.ready
                    and app.screen.query_one("#findings").row_count > 0
                ),
            )
            review = app.screen
            ids = {f.row_id for f in review.proposal.findings}
            assert "INJ[/]" in ids, ids
            table = review.query_one("#findings")
            by_id = {f.finding_id: f.row_id for f in review.proposal.findings}
            for index in range(table.row_count):  # select each hostile row: its evidence is rendered
                if by_id[table.coordinate_to_cell_key((index, 0)).row_key.value] in HOSTILE:
                    table.move_cursor(row=index)
                    await pilot.pause()
                    seen.append(screen_text(app))
                    escapes.extend(_control_characters(app))
            while isinstance(app.screen, ReviewScreen):
                await pilot.press("enter")
                await pilot.pause(0.2)
                await _until(pilot, lambda: not app.running)
                if session.pending and not isinstance(app.screen, ReviewScreen):
                    app.action_review()
                    await pilot.pause(0.2)
            await _until(pilot, lambda: session.status == "finished")
            for command in ("why [/] row", "why INJ[/]", "show 3", "[@click=app.quit]", "skip [/]", "export [/].csv"):
                app.query_one("#prompt").value = command
                await pilot.press("enter")
                await pilot.pause(0.2)
            seen.append(screen_text(app))
            escapes.extend(_control_characters(app))
            await pilot.press("escape", "h")  # leave the command box, then the history key
            await _until(pilot, lambda: isinstance(app.screen, HistoryScreen))
            await pilot.press("e")
            await pilot.pause()
            app.screen.query_one("#answer").value = "INJ[/]"
            await pilot.press("enter")
            await pilot.pause(0.3)
            seen.append(screen_text(app))
            escapes.extend(_control_characters(app))
            assert app.is_running, "a hostile string made the app quit"
        return seen

    screens = asyncio.run(walk())
    everything = "\n".join(screens)
    assert "INJ[/]" in everything and "closing tag [/] here" in everything
    assert "[@click=app.quit]" in everything
    assert json.loads((tmp_path / "session" / "summary.json").read_text())["status"] == "finished"
    assert not escapes, f"control characters reached the terminal: {escapes[:5]}"
    assert "␛[31mred␛[0m" in everything  # shown as symbols
