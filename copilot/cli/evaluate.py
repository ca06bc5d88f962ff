"""`curate eval`: run a suite of curation tasks with ground truth; `curate eval compare A B`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from copilot.cli.console import err, out
from copilot.core.config import Settings
from copilot.core.output_paths import check_output_folder
from curation_tools.errors import UserInputError

eval_app = typer.Typer(help="Benchmark the agent: suites of tasks with planted issues and ground truth.")


@eval_app.callback(invoke_without_command=True)
def run_eval(
    ctx: typer.Context,
    suite: Annotated[str, typer.Option(help="suite name in evals/ (small, full) or a YAML path")] = "small",
    planner: Annotated[
        str | None,
        typer.Option(
            help="also run this registered planner (one that uses an LLM needs an endpoint); baselines always run"
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="chat model for the llm planner (default: CURATE_MODEL)")] = None,
    reviewer: Annotated[
        str | None, typer.Option(help="oracle | approve-all | noisy:P (default: each task's own)")
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="folder for results.json, results.md, traces")] = None,
) -> None:
    """Run every task of a suite under each system and score it against ground truth."""
    if ctx.invoked_subcommand is not None:
        return
    from copilot.evaluation.runner import run_suite, systems_for
    from copilot.evaluation.suite import load_suite

    if out_dir is None:
        raise UserInputError("curate eval needs --out DIR for its results.")
    settings = Settings()
    if model:
        settings.model = model
    loaded = load_suite(suite)
    check_output_folder(out_dir, outputs=["results.json", "results.md"])
    if loaded.kind == "guidance":
        from copilot.evaluation.guidance_eval import run_guidance_suite
        from copilot.evaluation.guidance_eval import systems_for as guidance_systems

        run_guidance_suite(loaded, out_dir, settings, guidance_systems(settings), lambda m: err.print(m, markup=False))
        out.print((out_dir / "results.md").read_text(), markup=False)
        return
    if loaded.kind == "pii":
        from copilot.evaluation.pii_eval import run_pii_suite

        run_pii_suite(loaded, out_dir, progress=lambda m: err.print(m, markup=False))
        out.print((out_dir / "results.md").read_text(), markup=False)
        return
    if loaded.kind == "review-effort":
        from copilot.evaluation.review_effort import run_review_effort

        run_review_effort(loaded, out_dir, progress=lambda m: err.print(m, markup=False))
        out.print((out_dir / "results.md").read_text(), markup=False)
        return
    run_suite(loaded, systems_for(settings, planner), reviewer, out_dir, progress=lambda m: err.print(m, markup=False))
    out.print((out_dir / "results.md").read_text(), markup=False)


@eval_app.command("compare")
def compare_command(
    a: Annotated[Path, typer.Argument(help="a results folder")], b: Annotated[Path, typer.Argument(help="another")]
) -> None:
    """Mean F1 and collateral damage per system, two eval runs side by side."""
    from copilot.evaluation.runner import compare

    for folder in (a, b):
        if not (folder / "results.json").exists():
            raise UserInputError(f"{folder} has no results.json; run `curate eval --out {folder}` first.")
    out.print(compare(a, b), markup=False)
