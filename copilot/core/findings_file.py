"""Findings files (JSONL, one finding per line): written by `curate tools NAME --out`, applied by `curate apply`.

Every finding line carries the data file's sha256 and its row-id scheme, and applying a file to other data
is refused: row ids such as "17" mean a different row in another file. Lines are validated strictly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from curation_tools.atomic_files import atomic_path
from curation_tools.errors import UserInputError
from curation_tools.schema import Finding, Proposal, ToolResult

if TYPE_CHECKING:
    from curation_tools.dataset import Dataset

DATA_KEY, IDS_KEY = "data_sha256", "row_ids"
REQUIRED = ("row_id", "issue", "score", "action")
MAX_LINE = 10_000_000


def row_id_scheme(data: Dataset) -> str:
    return f"column:{data.roles.id}" if data.roles.id else "positions"


def write_findings(result: ToolResult, data: Dataset, path: Path, rows: bool = False) -> None:
    """Findings as JSONL; with `rows`, the new rows themselves (data columns plus provenance)."""
    stamp = {DATA_KEY: data.source.sha256, IDS_KEY: row_id_scheme(data)}
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as handle:
        for finding in result.findings:
            if rows:
                record = {**(finding.action.new_row or {}), **(finding.action.origin or {})}
            else:
                record = {"tool": result.proposal.tool, **finding.to_record(), **stamp}
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def _finding(path: Path, number: int, line: str, data: Dataset) -> tuple[str, Finding]:
    where = f"{path}: line {number}"
    if len(line) > MAX_LINE:
        raise UserInputError(f"{where} is over {MAX_LINE // 1_000_000} MB; a finding is one short JSON object.")
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        raise UserInputError(f"{where} is not valid JSON ({error}).") from None
    if not isinstance(record, dict):
        raise UserInputError(f"{where} holds a JSON {type(record).__name__}; each line must be one finding object.")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise UserInputError(f"{where} lacks {', '.join(missing)}; a finding needs {', '.join(REQUIRED)}.")
    if not isinstance(record["score"], int | float) or not math.isfinite(record["score"]):
        raise UserInputError(f"{where}: score must be a finite number, not {record['score']!r}.")
    if DATA_KEY not in record or IDS_KEY not in record:
        raise UserInputError(
            f"{where} does not say which data it was made on ({DATA_KEY}, {IDS_KEY}). Make the findings file "
            f"again with `curate tools NAME {data.source.path} --out FILE`."
        )
    if record[DATA_KEY] != data.source.sha256 or record[IDS_KEY] != row_id_scheme(data):
        raise UserInputError(
            f"{path} was made on other data (sha256 {str(record[DATA_KEY])[:12]}, row ids by {record[IDS_KEY]}) "
            f"than {data.source.path} (sha256 {data.source.sha256[:12]}, row ids by {row_id_scheme(data)}). Its row "
            f"ids would name unrelated rows here; run the tool on this file instead."
        )
    fields = {k: v for k, v in record.items() if k not in (DATA_KEY, IDS_KEY, "tool")}
    try:
        return str(record.get("tool", "unknown")), Finding.from_record(fields)
    except (ValidationError, ValueError, TypeError) as error:
        raise UserInputError(f"{where} is not a valid finding ({error}).") from None


def read_findings(path: Path, data: Dataset) -> Proposal:
    """The findings file as one proposal for `data`; any bad line or a file made on other data is refused."""
    if not path.is_file():
        raise UserInputError(f"{path}: no such findings file. Produce one with `curate tools NAME DATA --out {path}`.")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserInputError(f"{path}: not UTF-8 text (byte {error.start}); a findings file is JSONL.") from None
    findings, tools = [], set()
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            tool, finding = _finding(path, number, line, data)
            tools.add(tool)
            findings.append(finding)
    tool = tools.pop() if len(tools) == 1 else "mixed"
    return Proposal(
        tool=tool,
        tool_version="file",
        params={"findings_file": str(path)},
        summary=f"{len(findings)} findings from {path.name}",
        findings=findings,
    )
