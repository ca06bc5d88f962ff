from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples every run (a new random failure there would block a merge by chance); locally
# each run draws new ones, which is how the property tests keep finding cases.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
EXAMPLE = REPO / "examples" / "support_tickets.csv"


def shared_file(relative: str) -> Path:
    """A file under ../shared/data, or skip the test with a message saying what is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"needs {path} (the shared evaluation data beside the checkout); not present here")
    return path


def make_dataset(frame, **roles):
    """An in-memory Dataset with positional row ids and inferred (or given) roles."""
    import pandas as pd

    from curation_tools.dataset import Dataset, DataSource
    from curation_tools.roles import RoleOverrides, infer_roles

    frame = frame.set_axis(pd.Index([str(i) for i in range(len(frame))], name="row_id"))
    found, _ = infer_roles(frame, RoleOverrides(**roles))
    return Dataset(frame=frame, roles=found, source=DataSource(path="<test>", format="csv"))


@pytest.fixture(autouse=True)
def offline_environment(monkeypatch):
    """Tests never reach a real LLM endpoint, whatever the machine's environment holds."""
    for variable in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "CURATE_API_KEY",
        "CURATE_BASE_URL",
        "CURATE_EMBEDDER",
        "CURATE_ENGINE",
        "CURATE_DASK_ADDRESS",
    ):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def ctx(tmp_path):
    from curation_tools.context import ToolContext

    return ToolContext(cache_dir=tmp_path / "cache")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """Run `curate ARGS` in-process through the real entry point; returns code, stdout, stderr."""
    from copilot.cli import main

    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["curate", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
