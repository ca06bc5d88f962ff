"""`curate tools ...`: one click command per registered tool, options generated from its params model."""

from __future__ import annotations

import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal

import click
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from rich.markup import escape
from rich.table import Table

from copilot.cli.console import err, out, progress_bars
from copilot.cli.data_options import DATA_OPTIONS, engine_option, load_from_flags, with_engine
from copilot.core.config import Settings
from copilot.core.findings_file import write_findings
from copilot.core.output_paths import check_output
from copilot.ledger import default_workspace
from curation_tools.context import ToolContext
from curation_tools.errors import UserInputError
from curation_tools.registry import available_tools, run_tool
from curation_tools.schema import ToolResult, ToolSpec


def _option_for(name: str, field: FieldInfo) -> click.Option:
    flag = "--" + name.replace("_", "-")
    annotation = field.annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):  # Optional[X] -> X
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        origin = typing.get_origin(annotation)
    default = None if field.is_required() else field.get_default(call_default_factory=True)
    help_text = field.description or ""
    if annotation is bool:
        return click.Option([f"{flag}/--no-{flag[2:]}"], default=default, help=help_text, show_default=True)
    if origin is Literal:
        return click.Option(
            [flag],
            type=click.Choice([str(v) for v in typing.get_args(annotation)]),
            default=default,
            help=help_text,
            show_default=True,
        )
    if origin is list and (field.json_schema_extra or {}).get("repeatable"):
        return click.Option(
            [flag], type=str, multiple=True, required=field.is_required(), help=help_text + " (repeatable)"
        )
    if origin is list:
        shown = ",".join(map(str, default)) if default else None
        return click.Option([flag], type=str, default=shown, help=help_text + " (comma-separated)", show_default=True)
    click_type = {int: int, float: float}.get(annotation, str)
    return click.Option(
        [flag], type=click_type, default=default, required=field.is_required(), help=help_text, show_default=True
    )


def _params(spec: ToolSpec, values: dict[str, Any]) -> BaseModel:
    raw = {}
    for name, field in spec.params_model.model_fields.items():
        value = values.get(name)
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            value = list(value)
        if typing.get_origin(field.annotation) is list and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        raw[name] = value
    try:
        return spec.params_model(**raw)
    except ValidationError as error:
        problems = "; ".join(f"--{'.'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in error.errors())
        raise UserInputError(f"Invalid options for the {spec.name} tool: {problems}.") from None


def run_with_progress(
    spec: ToolSpec, data, params: BaseModel, settings: Settings, seed: int = 0, workspace: Path | None = None
) -> ToolResult:
    """Run one tool with rich progress bars (and the LLM helpers when an endpoint is configured): the shared
    path for `tools NAME` and `scan`."""
    helpers = {}
    if settings.llm_configured:
        from copilot.llm.client import LLMClient
        from copilot.llm.helpers import tool_helpers

        helpers = tool_helpers(LLMClient(settings), judges=True, generator=True)
    with progress_bars() as bars:
        ctx = ToolContext(
            cache_dir=settings.cache_dir,
            seed=seed,
            progress=bars,
            embedder_spec=settings.embedder,
            engine_spec=settings.engine_spec,
            workspace=workspace,
            **helpers,
        )
        return run_tool(spec, data, params, ctx)


def _files_read(params: BaseModel) -> list[Path]:
    """The benchmark files a tool's parameters name (`PATH[:FIELDS]`)."""
    from curation_tools.benchmark_files import parse_spec

    specs = getattr(params, "benchmark", None) or []
    return [parse_spec(spec)[0] for spec in ([specs] if isinstance(specs, str) else specs)]


def print_summary(spec: ToolSpec, result: ToolResult) -> None:
    counts = result.proposal.counts_by_issue()
    detail = ", ".join(f"{n} {issue}" for issue, n in counts.items()) or "no findings"
    err.print(
        f"[bold]{escape(spec.name)}[/]: {escape(detail)} in {result.elapsed_s:.1f}s — {escape(result.proposal.summary)}"
    )


def _make_command(spec: ToolSpec) -> click.Command:
    def callback(**values: Any) -> None:
        settings = with_engine(Settings(), values["engine"])
        if values["embedder"]:
            settings.embedder = values["embedder"]
        data = load_from_flags(values)
        params = _params(spec, values)
        target = values["out"]
        if target:  # before the work: a refused path should not cost a long run
            check_output(target, reads=[data.source.path, *_files_read(params)])
        workspace = default_workspace(Path(data.source.path))
        result = run_with_progress(spec, data, params, settings, seed=values["seed"], workspace=workspace)
        if target:
            if spec.output == "report":
                Path(target).write_text(json.dumps(result.report, indent=2, default=str))
            else:
                write_findings(result, data, Path(target), rows=spec.output == "rows")
        elif spec.output == "report":
            json.dump(result.report, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
        print_summary(spec, result)

    params: list[click.Parameter] = [click.Argument(["data"], type=click.Path(path_type=Path))]
    params += [opt() for opt in DATA_OPTIONS]
    params += [_option_for(n, f) for n, f in spec.params_model.model_fields.items()]
    params += [
        click.Option(
            ["--out"],
            type=click.Path(path_type=Path),
            help="findings JSONL (one object per flagged row); for report tools, a JSON file",
        ),
        click.Option(["--seed"], type=int, default=0, show_default=True, help="random seed"),
        click.Option(
            ["--embedder"], type=str, default=None, help="embedder: minilm (offline, default) or openai[:MODEL]"
        ),
        engine_option(),
    ]
    return click.Command(spec.name, callback=callback, params=params, help=spec.summary)


def tools_group() -> click.Group:
    group = click.Group("tools", help="Run one deterministic tool on a data file, or list them.")

    @group.command("list")
    @click.option("--json", "as_json", is_flag=True, help="machine-readable specs with parameter schemas")
    def list_tools(as_json: bool) -> None:
        tools = available_tools()
        if as_json:
            out.print_json(json.dumps([t.describe() for t in tools.values()], default=str))
            return
        table = Table("tool", "finds", "needs", "summary", box=None)
        for spec in tools.values():
            table.add_row(
                escape(spec.name),
                escape(", ".join(spec.issue_types) or "(report)"),
                ", ".join(spec.required_roles) or "-",
                escape(spec.summary),
            )
        out.print(table)

    for spec in available_tools().values():
        group.add_command(_make_command(spec))
    return group
