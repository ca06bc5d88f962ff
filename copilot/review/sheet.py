"""A review sheet: a waiting run's pending findings as a CSV a person fills in with a spreadsheet, read back as
decisions (`curate run --resume DIR --decisions review.csv`).

One row per finding: what the tool proposes, the row's text, the labels and the evidence in words, and two
columns to fill: `decision` (approve, reject, or empty to leave it undecided) and `new_label` (optional).
Every cell is written as text; a cell starting with = + - @ is prefixed with ' so a spreadsheet never runs it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from copilot.core.decisions import PendingDetail
from copilot.review.evidence import Block, Display, evidence_blocks
from curation_tools.atomic_files import write_text_atomic
from curation_tools.errors import UserInputError
from curation_tools.label_names import named_label

COLUMNS = [
    "finding_id",
    "tool",
    "issue",
    "score",
    "row_id",
    "proposed",
    "row_text",
    "given_label",
    "suggested_label",
    "evidence",
    "message",
    "decision",
    "new_label",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _named(value: Any, name: Any) -> str:
    return _cell(None if value is None else named_label(value, name))


def _evidence_words(blocks: list[Block]) -> str:
    """The evidence beyond the row itself, in words: "kept row T1: ... | what differs (kept → this row): ..."."""
    return " | ".join(f"{b.title}: {b.plain().strip()}" for b in blocks if b.title != "this row")


def _row_text(row: dict[str, Any] | None, label_column: str | None) -> str:
    if row is None:
        return "(removed by an earlier decision)"
    return " | ".join(f"{k}: {v}" for k, v in row.items() if k != label_column)


def write_review_csv(
    details: list[PendingDetail],
    path: Path,
    label_column: str | None,
    displays: dict[str, Display] | None = None,
    texts: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
) -> Path:
    """The sheet for these pending findings (Session.pending_details); `displays`, `texts` and `names` as for the
    review page (each tool's evidence view, rows' texts, label names)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for item in details:
        e, action = item.evidence, item.action
        proposed = action.type.value + (f" -> {action.new_label}" if action.new_label is not None else "")
        text = (texts or {}).get(item.row_id, "")
        display = (displays or {}).get(item.tool, Display())
        blocks = evidence_blocks(display, e, text, names or {}, texts or {})
        writer.writerow(
            {
                "finding_id": item.finding_id,
                "tool": _cell(item.tool),
                "issue": _cell(item.issue),
                "score": f"{item.score:.2f}",
                "row_id": _cell(item.row_id),
                "proposed": _cell(proposed),
                "row_text": _cell(_row_text(item.row, label_column)),
                "given_label": _named(e.given_label, e.given_label_name),
                "suggested_label": _named(e.suggested_label, e.suggested_label_name),
                "evidence": _cell(_evidence_words(blocks)),
                "message": _cell(item.message),
                "decision": "",
                "new_label": "",
            }
        )
    write_text_atomic(path, buffer.getvalue())
    return path


def read_review_csv(path: Path) -> dict[str, str | dict[str, Any]]:
    """finding_id -> 'approve' | 'reject' | {"approve": bool, "new_label": X} from a filled-in sheet; rows with an
    empty decision stay undecided. Unknown decisions are refused with the row number."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UserInputError(f"{path}: cannot read the review sheet: {error}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"finding_id", "decision"} - set(reader.fieldnames or [])
    if missing:
        raise UserInputError(f"{path}: not a review sheet (no {', '.join(sorted(missing))} column).")
    answers: dict[str, str | dict[str, Any]] = {}
    lines: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        decision = (row.get("decision") or "").strip().lower()
        if not decision:
            continue
        if decision not in ("approve", "reject"):
            raise UserInputError(f"{path}: line {number}: decision is approve, reject or empty, not {decision!r}.")
        if row["finding_id"] in lines:
            raise UserInputError(
                f"{path}: finding {row['finding_id']} is decided on line {lines[row['finding_id']]} and again on line "
                f"{number}; keep one decision for it. Nothing was decided."
            )
        lines[row["finding_id"]] = number
        new_label = (row.get("new_label") or "").strip()
        answers[row["finding_id"]] = (
            {"approve": decision == "approve", "new_label": new_label} if new_label else decision
        )
    return answers
