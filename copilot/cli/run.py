"""`curate run`: a scripted, headless curation run on the Session API (recipe + approval policy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape as esc

from copilot.agents.recipe import load_recipe
from copilot.cli.console import err, out, run_progress
from copilot.cli.data_options import (
    BenchmarkOpt,
    EngineOpt,
    FeaturesOpt,
    GoalOpt,
    IdOpt,
    LabelOpt,
    SepOpt,
    SplitOpt,
    TextOpt,
    overrides_from,
    separator,
    with_engine,
)
from copilot.core.config import Settings
from copilot.core.guidance import GuidanceRule
from copilot.review.policy import load_policy
from curation_tools.atomic_files import write_text_atomic
from curation_tools.errors import UserInputError

if TYPE_CHECKING:
    from copilot.run.events import Event

EXIT = {"finished": 0, "waiting": 3, "budget_reached": 4, "plan_rejected": 1}


def _show(event: Event) -> None:
    from copilot.run.events import Applied, Cost, Finished, Message, PlanMade, ProposalReady, StepStarted

    match event:
        case PlanMade(data=d):
            steps = ", ".join(s.tool for s in d.steps) or "finish"
            err.print(f"[bold]plan[/] round {d.round} ({esc(d.planner)}): {esc(steps)} — {esc(d.rationale)}")
        case StepStarted(data=d):
            err.print(f"  [cyan]{esc(d.tool)}[/] started")
        case ProposalReady(data=d):
            err.print(f"  [cyan]{esc(d.tool)}[/]: {esc(d.summary)} ({d.elapsed_s}s)")
        case Applied(data=d):
            err.print(f"  [green]applied[/] {esc(d.tool)}: {d.edits} edits, {d.conflicts} conflicts")
        case Message(data=d):
            err.print(f"  {d.text}", markup=False)
        case Cost(data=d):
            err.print(f"  {d.shown()}", markup=False)
        case Finished(data=d):
            err.print(f"[bold]{d.status}[/]")


def show_guidance(rules: list[GuidanceRule]) -> None:
    """What the person's words became, before anything runs on them."""
    for rule in rules:
        said = f' "{rule.words}"' if rule.words else ""
        err.print(f"guidance from the {rule.source}{said} (read by {rule.parser}):", markup=False)
        purpose = [f"purpose: {rule.guidance.purpose} (recorded, no constraint)"] if rule.guidance.purpose else []
        for constraint in [*rule.guidance.describe(), *purpose]:
            err.print(f"  - {constraint}", markup=False)


def run(
    data: Annotated[Path | None, typer.Argument(help="data file (CSV/TSV/JSONL/Parquet); omit with --resume")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="run folder for outputs and the workspace")] = None,
    id: IdOpt = None,
    text: TextOpt = None,
    label: LabelOpt = None,
    features: FeaturesOpt = None,
    split: SplitOpt = None,
    sep: SepOpt = None,
    benchmark: BenchmarkOpt = None,
    goal: GoalOpt = "",
    recipe: Annotated[Path | None, typer.Option(help="recipe YAML: 'plan: auto' or an ordered 'steps:' list")] = None,
    policy: Annotated[str, typer.Option(help="approve-all | conservative | review | POLICY.yaml")] = "review",
    flags: Annotated[
        str | None,
        typer.Option(
            help="what an approved flag does: keep (listed in flagged.jsonl) | drop | relabel; overrides the policy's"
        ),
    ] = None,
    planner: Annotated[
        str, typer.Option(help="heuristic (offline), llm (OpenAI-compatible endpoint), all-tools, or any registered")
    ] = "heuristic",
    llm_judge: Annotated[
        bool, typer.Option("--llm-judge", help="let the LLM re-check borderline label and contamination findings")
    ] = False,
    seed: Annotated[int, typer.Option(help="random seed for the tools")] = 0,
    max_llm_calls: Annotated[int | None, typer.Option(help="stop cleanly (exit 4) after this many LLM calls")] = None,
    max_cost: Annotated[float | None, typer.Option(help="stop cleanly (exit 4) at this estimated USD cost")] = None,
    resume: Annotated[Path | None, typer.Option(help="continue the run in this folder")] = None,
    decisions: Annotated[
        Path | None,
        typer.Option(help="with --resume: JSON of finding_id -> approve|reject (or pending.json filled in)"),
    ] = None,
    engine: EngineOpt = None,
    guidance_parser: Annotated[
        str,
        typer.Option(help="who reads --goal's words: offline (phrasing parser) | llm | auto (offline, else the LLM)"),
    ] = "auto",
) -> None:
    """Run the curation agent headless: plan, run tools, decide by policy, apply, write the curated data.

    Exit codes: 0 done, 2 bad input, 3 waiting for decisions (see DIR/pending.json), 4 budget reached.
    """
    from copilot.review.decision_files import read_decisions
    from copilot.run.events import Progress
    from copilot.run.run_config import RunConfig
    from copilot.run.session import Session, benchmark_spec_absolute  # lazy: LangGraph

    settings = with_engine(Settings(), engine)
    if guidance_parser not in ("offline", "llm", "auto"):
        raise UserInputError(f"--guidance-parser is offline, llm or auto, not '{guidance_parser}'.")
    if resume:
        session = Session.resume(resume, settings)
        if decisions:
            session.review_with(read_decisions(decisions))
    else:
        if data is None or out_dir is None:
            raise UserInputError("curate run needs DATA and --out DIR (or --resume DIR).")
        config = RunConfig(
            data=str(data.resolve()),
            roles=overrides_from(dict(id=id, text=text, label=label, features=features, split=split)),
            sep=separator(sep),
            benchmarks=[benchmark_spec_absolute(b) for b in benchmark or []],
            goal=goal,
            recipe=load_recipe(recipe),
            policy=load_policy(policy, flags),
            planner=planner,
            llm_judges=llm_judge,
            seed=seed,
            max_llm_calls=max_llm_calls,
            max_cost=max_cost,
            guidance_parser=guidance_parser,
        )
        session = Session.start(config, out_dir, settings)
        show_guidance(session.config.guidance)  # as recorded at the start; the ledger stays closed here
    with run_progress() as progress:
        for event in session.events():
            if isinstance(event, Progress):
                progress(f"{event.data.tool}: {event.data.stage}", event.data.done, event.data.total)
            else:
                _show(event)
    folder = session.out_dir
    if session.status == "waiting":
        pending = [{**p.record(), "decision": None} for p in session.pending_details()]
        write_text_atomic(folder / "pending.json", json.dumps(pending, indent=2, default=str))
        err.print(
            f"{len(pending)} finding(s) wait for a decision; they are listed in {folder / 'pending.json'}.\n"
            f"To decide them in a browser or a spreadsheet: curate review {folder}. Or fill in each 'decision' "
            f"there with approve or reject. Then: curate run --resume {folder} --decisions FILE",
            markup=False,
        )
    elif (folder / "summary.json").exists():
        summary = json.loads((folder / "summary.json").read_text())
        out.print(
            f"{summary['rows_in']} rows in, {summary['rows_out']} rows out; changes: "
            f"{', '.join(f'{n} {a}' for a, n in summary['changes'].items()) or 'none'}. Outputs in {folder}/",
            markup=False,
        )
    raise typer.Exit(EXIT.get(session.status, 0))
