"""The one guard on every path a person names for curate to write (`--out`, `--json`, chat's `export NAME`).

A command may never write over a file it reads (the input, a benchmark, a decisions or findings file), into a
curate workspace (the ledger, its versions, the input's copy: the history every export is built from), over a
file of another run's folder, or over a run's own records (run.json, events, changes, summary: what the run
did). Paths are compared resolved, so `./d.csv`, `../x/d.csv`, a symlink and a hard link to the input are the
same file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import Path

from curation_tools.errors import UserInputError

RUN_RECORDS = frozenset(
    {"run.json", "events.jsonl", "summary.json", "changes.jsonl", "flagged.jsonl", "pending.json", "review_draft.json"}
)
RUN_OUTPUTS = RUN_RECORDS | {"report.md", "report.html", "review.html", "review.csv", "curated.*"}


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def workspace_of(path: Path) -> Path | None:
    """The curate workspace (a folder holding workspace.json, or a run's workspace/ folder) `path` lies in."""
    for folder in [path, *path.parents]:
        if (folder / "workspace.json").is_file() or (folder.name == "workspace" and is_run_folder(folder.parent)):
            return folder
    return None


def is_run_folder(folder: Path) -> bool:
    return (folder / "run.json").is_file()


def run_folder_of(path: Path) -> Path | None:
    return next((folder for folder in path.parents if is_run_folder(folder)), None)


def check_output(
    path: Path, *, reads: Iterable[Path | str] = (), owner: Path | None = None, what: str = "--out"
) -> Path:
    """Refuse (UserInputError, nothing written) an output path that would replace a file the command reads, lie
    inside a workspace, replace a file of a run folder other than `owner` (the run this command writes for), or
    replace one of a run's records. Returns the path."""
    path = Path(path)
    resolved = path.resolve()
    for read in reads:
        if _same_file(path, Path(read)):
            named = f" ({read})" if str(read) != str(path) else ""
            raise UserInputError(
                f"{what} {path} is a file this command reads{named}; curate never writes over its input. "
                f"Choose another path."
            )
    workspace = workspace_of(resolved)
    if workspace is not None:
        raise UserInputError(
            f"{what} {path} lies inside the curate workspace {workspace}, which holds the ledger, its versions and "
            f"the input's copy every export is built from; curate never writes there on request. Choose a path "
            f"outside it."
        )
    run = run_folder_of(resolved)
    if run is not None and resolved.exists():
        own = owner is not None and run == Path(owner).resolve()
        if not own or resolved.name in RUN_RECORDS:
            whose = "a record of this run" if own else f"a file of the run in {run}"
            raise UserInputError(
                f"{what} {path} is {whose}; writing over it would lose what that run recorded. Choose another path."
            )
    if resolved.is_dir():
        raise UserInputError(f"{what} {path} is a folder; name a file to write.")
    return path


def check_output_folder(
    folder: Path, *, reads: Iterable[Path | str] = (), outputs: Iterable[str] = (), what: str = "--out"
) -> Path:
    """A folder a command fills with files (`outputs`: names or patterns such as `curated.*`): not inside a
    workspace, and none of the files it reads among them."""
    folder = Path(folder)
    resolved = folder.resolve()
    if resolved.exists() and not resolved.is_dir():
        raise UserInputError(f"{what} {folder} is a file, not a folder; name a folder for the outputs.")
    workspace = workspace_of(resolved)
    if workspace is not None:
        raise UserInputError(
            f"{what} {folder} lies inside the curate workspace {workspace}; curate never writes there on request. "
            f"Choose a folder outside it."
        )
    patterns = list(outputs)
    for read in map(Path, reads):
        target = read.resolve()
        if target == resolved:
            raise UserInputError(f"{what} {folder} is {read}, which this command reads. Choose another folder.")
        written_over = target.parent == resolved and any(fnmatch(target.name, p) for p in patterns)
        if written_over or resolved / "workspace" in target.parents:
            raise UserInputError(
                f"{what} {folder}: this command would write over {read}, a file it reads. Choose another folder."
            )
    return folder
