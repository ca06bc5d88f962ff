"""A third-party tool added through an entry point runs through `curate run` like a built-in one (the worked
example in CONTRIBUTING.md): its module plus one entry-point line, nothing else."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .conftest import EXAMPLE

TOY = Path(__file__).parent / "toy_tool"
SHORT = {"S1": "hi", "S2": "ok thanks", "S3": "help"}

pytestmark = pytest.mark.slow  # real `curate` processes, one per case


@pytest.fixture
def plugin_env(tmp_path):
    """An installed distribution as importlib.metadata sees one: a dist-info folder with the entry point."""
    site = tmp_path / "site"
    info = site / "toy_curation_tool-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-curation-tool\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[curation_tools.tools]\nshort-rows = toy_curation_tool:SPEC\n\n"
        "[curation_copilot.planners]\nshort-rows-only = toy_curation_tool:make_planner\n"
    )
    shutil.copytree(TOY / "toy_curation_tool", site / "toy_curation_tool")
    return {**os.environ, "PYTHONPATH": str(site), "CURATE_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200"}


@pytest.fixture
def data(tmp_path):
    frame = pd.read_csv(EXAMPLE)
    extra = pd.DataFrame({"ticket_id": list(SHORT), "text": list(SHORT.values()), "intent": "change_pin"})
    path = tmp_path / "tickets.csv"
    pd.concat([frame, extra]).to_csv(path, index=False)
    return path


def curate(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "copilot.cli", *map(str, args)], capture_output=True, text=True, env=env
    )


def test_the_toy_tool_is_listed_and_planned_and_applied(plugin_env, data, tmp_path):
    listed = curate(plugin_env, "tools", "list")
    assert "short-rows" in listed.stdout
    out = tmp_path / "run"
    done = curate(plugin_env, "run", data, "--policy", "approve-all", "--out", out)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    plan = next(e for e in events if e["kind"] == "plan")  # the first round's
    assert "short-rows" in [s["tool"] for s in plan["data"]["steps"]]
    changes = [json.loads(line) for line in (out / "changes.jsonl").read_text().splitlines()]
    assert {c["row_id"] for c in changes if c["tool"] == "short-rows"} == set(SHORT)
    assert not set(SHORT) & set(pd.read_csv(out / "curated.csv")["ticket_id"])


def test_a_recipe_runs_the_toy_tool_with_its_parameters(plugin_env, data, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("steps:\n  - tool: short-rows\n    params: {max_words: 1}\n")
    out = tmp_path / "run"
    done = curate(plugin_env, "run", data, "--recipe", recipe, "--policy", "approve-all", "--out", out)
    assert done.returncode == 0, done.stderr
    changes = [json.loads(line) for line in (out / "changes.jsonl").read_text().splitlines()]
    assert {c["row_id"] for c in changes} == {"S1", "S3"}
    recipe.write_text("steps:\n  - tool: short-rows\n    params: {max_word: 1}\n")
    refused = curate(plugin_env, "run", data, "--recipe", recipe, "--out", tmp_path / "again")
    assert refused.returncode == 2 and "did you mean 'max_words'?" in refused.stderr


def test_a_registered_planner_plans_the_run(plugin_env, data, tmp_path):
    out = tmp_path / "run"
    done = curate(plugin_env, "run", data, "--planner", "short-rows-only", "--policy", "approve-all", "--out", out)
    assert done.returncode == 0, done.stderr
    steps = json.loads((out / "summary.json").read_text())["steps"]
    assert [s["tool"] for s in steps] == ["short-rows"]
    unknown = curate(plugin_env, "run", data, "--planner", "nope", "--out", tmp_path / "x")
    assert unknown.returncode == 2 and "Available: all-tools, heuristic, llm, short-rows-only" in unknown.stderr


@pytest.fixture
def tidy_env(plugin_env, tmp_path):
    """The toy package with its second tool registered too: `tidy-spaces` edits cells and declares its own
    evidence field (how many spaces it removes) and view (the cell before and after)."""
    info = tmp_path / "site" / "toy_curation_tool-0.1.dist-info" / "entry_points.txt"
    info.write_text(
        info.read_text().replace(
            "short-rows = toy_curation_tool:SPEC\n",
            "short-rows = toy_curation_tool:SPEC\ntidy-spaces = toy_curation_tool:TIDY\n",
        )
    )
    return plugin_env


SCREEN = """
import asyncio, sys
from copilot.run.session import Session
from copilot.tui.app import CurateApp
from copilot.tui.review import ReviewScreen

async def main():
    app = CurateApp(Session.resume(sys.argv[1]))
    async with app.run_test(size=(120, 40)) as pilot:
        while not (isinstance(app.screen, ReviewScreen) and app.screen.ready):
            await pilot.pause(0.1)
        print(app.screen.query_one("#evidence").content)
        await pilot.press("ctrl+q")

asyncio.run(main())
"""


def test_a_new_tool_that_edits_cells_shows_its_evidence_everywhere_with_no_change_to_the_copilot(tidy_env, tmp_path):
    frame = pd.read_csv(EXAMPLE).head(40)
    frame.loc[3, "text"] = "my  card   is lost"
    data = tmp_path / "spaced.csv"
    frame.to_csv(data, index=False)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("steps:\n  - tool: tidy-spaces\n")
    out = tmp_path / "run"
    waiting = curate(tidy_env, "run", data, "--recipe", recipe, "--out", out)
    assert waiting.returncode == 3, waiting.stderr

    screen = subprocess.run([sys.executable, "-c", SCREEN, str(out)], capture_output=True, text=True, env=tidy_env)
    assert screen.returncode == 0, screen.stderr
    for shown in ("before", "my  card   is lost", "after", "my card is lost", "extra spaces removed", "3"):
        assert shown in screen.stdout, screen.stdout  # the TUI's review

    assert curate(tidy_env, "review", out).returncode == 0
    page = (out / "review.html").read_text()
    assert '"extra spaces removed"' in page and "my card is lost" in page  # the review page
    sheet = (out / "review.csv").read_text()
    assert "extra spaces removed: 3" in sheet and "after: my card is lost" in sheet  # the review sheet

    pending = json.loads((out / "pending.json").read_text())
    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({p["finding_id"]: "approve" for p in pending}))
    done = curate(tidy_env, "run", "--resume", out, "--decisions", decisions)
    assert done.returncode == 0, done.stderr
    assert "my card is lost" in (out / "curated.csv").read_text()
    report = (out / "report.html").read_text()
    assert "tidy-spaces" in report and "extra spaces removed" in report and ">edited<" in report  # report.html
    card = tmp_path / "card.md"
    assert curate(tidy_env, "card", "--workspace", out / "workspace" / "ledger", "--out", card).returncode == 0
    assert re.search(r"\| tidy-spaces \| `text` \| \d+ \|", card.read_text())  # the card's cell edits


def test_a_registered_planner_runs_through_the_eval(plugin_env, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "tasks:\n  - name: tickets\n    source: {kind: support_tickets}\n    plants: {exact_duplicates: 4}\n"
    )
    done = curate(plugin_env, "eval", "--suite", suite, "--planner", "short-rows-only", "--out", tmp_path / "eval")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "eval" / "results.json").read_text())["results"]
    assert {r["system"] for r in results} == {"no-op", "all-tools", "heuristic", "short-rows-only"}
    llm = curate(plugin_env, "eval", "--suite", suite, "--planner", "llm", "--out", tmp_path / "eval2")
    assert llm.returncode == 2 and "uses an LLM" in llm.stderr
