"""`curate chat`: the terminal UI on a session (every finding waits for a person)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from copilot.cli.data_options import (
    BenchmarkOpt,
    FeaturesOpt,
    GoalOpt,
    IdOpt,
    LabelOpt,
    SepOpt,
    SplitOpt,
    TextOpt,
    overrides_from,
    separator,
)
from copilot.review.policy import load_policy
from curation_tools.errors import UserInputError


def chat(
    data: Annotated[Path | None, typer.Argument(help="data file (CSV/TSV/JSONL/Parquet); omit with --resume")] = None,
    id: IdOpt = None,
    text: TextOpt = None,
    label: LabelOpt = None,
    features: FeaturesOpt = None,
    split: SplitOpt = None,
    sep: SepOpt = None,
    benchmark: BenchmarkOpt = None,
    goal: GoalOpt = "",
    planner: Annotated[str, typer.Option(help="heuristic (offline) or llm")] = "heuristic",
    session_dir: Annotated[
        Path | None, typer.Option("--session", help="session folder (default: .curate/sessions/<file name> beside it)")
    ] = None,
    resume: Annotated[Path | None, typer.Option(help="return to the session in this folder")] = None,
) -> None:
    """Curate in a terminal UI: watch the plan, review every proposal with its evidence, undo anything."""
    from copilot.run.run_config import RunConfig
    from copilot.run.session import Session, benchmark_spec_absolute  # lazy: LangGraph

    if resume:
        session = Session.resume(resume)
    else:
        if data is None:
            raise UserInputError("curate chat needs DATA (or --resume SESSION_FOLDER).")
        folder = session_dir or data.resolve().parent / ".curate" / "sessions" / data.name
        config = RunConfig(
            data=str(data.resolve()),
            roles=overrides_from(dict(id=id, text=text, label=label, features=features, split=split)),
            sep=separator(sep),
            benchmarks=[benchmark_spec_absolute(b) for b in benchmark or []],
            goal=goal,
            policy=load_policy("review"),
            planner=planner,
        )
        session = Session.start(config, folder)
    from copilot.tui.app import CurateApp  # lazy: the rest of the CLI never loads Textual

    session.hold()  # a live chat is the run's one writer: nothing else applies what a person is reviewing
    try:
        CurateApp(session).run()
    finally:
        session.close()
    typer.echo(f"Session saved in {session.out_dir}; return with: curate chat --resume {session.out_dir}")
