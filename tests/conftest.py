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


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One embedding cache for the session's tests: each distinct text is embedded once, not once per test (a test
    of the cache itself names its own folder)."""
    return tmp_path_factory.mktemp("embedding-cache")


OFFLINE_UNSET = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "CURATE_API_KEY",
    "CURATE_BASE_URL",
    "CURATE_EMBEDDER",
    "CURATE_ENGINE",
    "CURATE_DASK_ADDRESS",
)


@pytest.fixture(autouse=True)
def offline_environment(monkeypatch, shared_cache):
    """Tests never reach a real LLM endpoint, whatever the machine's environment holds, and never write to the
    person's own cache folder."""
    monkeypatch.setenv("CURATE_CACHE_DIR", str(shared_cache))
    for variable in OFFLINE_UNSET:
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


def curate_here(*args: object, cwd: Path, cache: Path) -> CliResult:
    """`curate ARGS` in this process, in `cwd`, offline with `cache` as the embedding cache, for fixtures that
    build a workspace or a run once per module (a subprocess per step costs its start-up: seconds a fixture need
    not spend; the autouse environment is not set up yet for a module's fixture)."""
    import contextlib
    import io

    from copilot.cli import main

    out, err = io.StringIO(), io.StringIO()
    here, argv, environment = Path.cwd(), sys.argv, dict(os.environ)
    code = 0
    for variable in OFFLINE_UNSET:
        os.environ.pop(variable, None)
    os.environ.update(CURATE_CACHE_DIR=str(cache), COLUMNS="200")
    os.chdir(cwd)
    sys.argv = ["curate", *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        os.chdir(here)
        sys.argv = argv
        os.environ.clear()
        os.environ.update(environment)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """Run `curate ARGS` in-process through the real entry point; returns code, stdout, stderr."""
    from copilot.cli import main

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
