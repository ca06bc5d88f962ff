"""The data flags every data command shares (--id/--text/--label/--features/--split), for click and typer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from rich.markup import escape

from copilot.cli.console import err
from copilot.core.config import Settings
from curation_tools.engine import ENGINES
from curation_tools.errors import UserInputError

if TYPE_CHECKING:  # pandas and the readers load when data does, not for `curate --help`
    from curation_tools.dataset import Dataset
    from curation_tools.roles import RoleOverrides

HELP = {
    "id": "column with unique row ids (default: inferred, else row positions; 'none' for positions)",
    "text": "text column(s), comma-separated to join several (default: inferred)",
    "label": "label column (default: inferred; 'none' if there is no label)",
    "features": "feature columns for tabular data, comma-separated (default: inferred)",
    "split": "column holding train/test split names (default: inferred)",
    "sep": "a CSV's field separator: , ; | or tab (default: sniffed from the first lines)",
}

ENGINE_HELP = (
    "where heavy stages run: local (default) or dask (CURATE_DASK_ADDRESS's cluster, else worker processes "
    "started on 127.0.0.1); needs the dask extra"
)

DATA_OPTIONS = [
    (lambda name=name, help_text=help_text: click.Option([f"--{name}"], type=str, default=None, help=help_text))
    for name, help_text in HELP.items()
]

EngineOpt = Annotated[str | None, typer.Option("--engine", help=ENGINE_HELP)]


def engine_option() -> click.Option:
    return click.Option(["--engine"], type=str, default=None, help=ENGINE_HELP)


def with_engine(settings: Settings, engine: str | None) -> Settings:
    """The settings with --engine applied when given (checked here: typer has no choice type for it)."""
    if engine is not None:
        if engine not in ENGINES:
            raise UserInputError(f"Unknown engine '{engine}': use --engine local or --engine dask.")
        settings.engine = engine  # type: ignore[assignment]
    return settings


IdOpt = Annotated[str | None, typer.Option("--id", help=HELP["id"])]
TextOpt = Annotated[str | None, typer.Option("--text", help=HELP["text"])]
LabelOpt = Annotated[str | None, typer.Option("--label", help=HELP["label"])]
FeaturesOpt = Annotated[str | None, typer.Option("--features", help=HELP["features"])]
SplitOpt = Annotated[str | None, typer.Option("--split", help=HELP["split"])]
SepOpt = Annotated[str | None, typer.Option("--sep", help=HELP["sep"])]
BenchmarkOpt = Annotated[
    list[str] | None, typer.Option("--benchmark", help="benchmark file PATH[:FIELDS|PRESET] (repeatable)")
]
GoalOpt = Annotated[
    str,
    typer.Option(
        help="what the data is for and what to keep, in words ('keep the near duplicates; never touch rows labelled "
        "X'): read into constraints every step obeys (README: Guidance); words it cannot read are refused (exit 2)"
    ),
]
WorkspaceOpt = Annotated[
    Path | None, typer.Option("--workspace", help="workspace folder (default: .curate/<file name>/ beside the data)")
]


def _split_list(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def overrides_from(values: dict[str, Any]) -> RoleOverrides:
    from curation_tools.roles import RoleOverrides

    return RoleOverrides(
        id=values.get("id"),
        text=_split_list(values.get("text")),
        label=values.get("label"),
        features=_split_list(values.get("features")),
        split=values.get("split"),
    )


SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t", "\t": "\t", ",": ",", ";": ";", "|": "|", "comma": ",", "semicolon": ";"}


def separator(value: str | None) -> str | None:
    """--sep as the character it names (tab, \\t, ',', ';', '|'), or None to sniff it."""
    if value is None:
        return None
    if value.lower() not in SEPARATOR_NAMES:
        raise UserInputError(f"--sep {value!r}: give one of , ; | or tab.")
    return SEPARATOR_NAMES[value.lower()]


def load_from_flags(values: dict[str, Any], quiet: bool = False) -> Dataset:
    """Load the data file named by `values['data']`, printing how column roles were decided."""
    from curation_tools.io import load_dataset

    data, notes = load_dataset(values["data"], overrides_from(values), separator(values.get("sep")))
    if not quiet:
        err.print(f"[bold]{escape(data.source.path)}[/]: {len(data)} rows. Column roles:")
        for note in notes:
            err.print(f"  - {escape(note)}", soft_wrap=True)
    return data
