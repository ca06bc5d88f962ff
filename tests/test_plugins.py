"""A third-party tool added through an entry point runs through `curate run` like a built-in one (the worked
example in CONTRIBUTING.md): its module plus one entry-point line, nothing else."""

from __future__ import annotations

import json
import os
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
    plan = json.loads((out / "events.jsonl").read_text().splitlines()[2])  # started, profile message, plan
    assert plan["kind"] == "plan" and "short-rows" in [s["tool"] for s in plan["data"]["steps"]]
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
