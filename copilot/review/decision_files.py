"""Decisions a person wrote down, read strictly: a decisions JSON object, pending.json with each `decision` filled
in, or a filled-in review sheet (.csv). A finding decided twice, even the same way, is refused with the lines of
both answers: which one a person meant is theirs to say, not the last line's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from copilot.core.decisions import AnswersReviewer
from copilot.review.sheet import read_review_csv
from curation_tools.errors import UserInputError
from curation_tools.validation import nearest

DECISION_KEYS = (
    "finding_id",
    "decision",
    "new_label",
    "proposal_id",
    "tool",
    "row_id",
    "issue",
    "action",
    "score",
    "message",
    "row",
    "evidence",
)
LABEL_TYPES = (str, int, float, bool)


def _lines_of(text: str, pattern: str) -> list[int]:
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, text)]


def _key_lines(text: str, key: str) -> list[int]:
    return _lines_of(text, re.escape(json.dumps(key)) + r"\s*:")


def _load_json(path: Path) -> tuple[Any, str]:
    """The file's JSON, refusing any object that names a key twice (json.loads would keep the last silently)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserInputError(f"{path}: cannot read decisions: {error}") from None
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        return dict(items)

    try:
        raw = json.loads(text, object_pairs_hook=pairs)
    except (json.JSONDecodeError, RecursionError) as error:
        raise UserInputError(f"{path}: cannot read decisions: {error}") from None
    if repeated:
        key = repeated[0]
        lines = ", ".join(map(str, _key_lines(text, key)))
        raise UserInputError(
            f"{path}: {key!r} is given more than once (lines {lines}); keep one answer for it. Nothing was decided."
        )
    return raw, text


def _answer(where: str, value: Any, new_label: Any = None) -> str | dict[str, Any]:
    if new_label is not None and not isinstance(new_label, LABEL_TYPES):
        raise UserInputError(f"{where}: a new_label is one label (text or a number), not {new_label!r}.")
    if value in ("approve", "reject"):
        return value if new_label is None else {"approve": value == "approve", "new_label": new_label}
    if isinstance(value, dict):
        unknown = set(value) - {"approve", "new_label"}
        if unknown or not isinstance(value.get("approve"), bool):
            raise UserInputError(
                f'{where}: a decision object is {{"approve": true|false, "new_label": ...}}, not {value!r}.'
            )
        label = value.get("new_label")
        if label is not None and not isinstance(label, LABEL_TYPES):
            raise UserInputError(f"{where}: a new_label is one label (text or a number), not {label!r}.")
        return value
    raise UserInputError(f"{where}: a decision is 'approve' or 'reject', not {value!r}.")


def _from_list(path: Path, raw: list[Any], text: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    items_of: dict[str, list[int]] = {}
    for number, item in enumerate(raw, start=1):
        where = f"{path}: item {number}"
        if not isinstance(item, dict):
            raise UserInputError(f"{where} is a {type(item).__name__}, not an object from pending.json.")
        unknown = [k for k in item if k not in DECISION_KEYS]
        if unknown:
            raise UserInputError(f"{where}: unknown key '{unknown[0]}' ({nearest(unknown[0], list(DECISION_KEYS))}).")
        if not isinstance(item.get("finding_id"), str):
            raise UserInputError(f"{where} has no finding_id; keep the items as pending.json lists them.")
        if item.get("decision") is not None:
            items_of.setdefault(item["finding_id"], []).append(number)
            answers[item["finding_id"]] = _answer(where, item["decision"], item.get("new_label"))
    for finding_id, numbers in items_of.items():
        if len(numbers) > 1:
            pattern = r'"finding_id"\s*:\s*' + re.escape(json.dumps(finding_id))
            lines = ", ".join(map(str, _lines_of(text, pattern)))
            raise UserInputError(
                f"{path}: finding {finding_id} is decided {len(numbers)} times (items "
                f"{', '.join(map(str, numbers))}, lines {lines}); keep one decision for it. Nothing was decided."
            )
    return answers


def read_decisions(path: Path) -> AnswersReviewer:
    """A decisions file as a reviewer: {finding_id: 'approve'|'reject'|{"approve": bool, "new_label": X}}, or the
    pending.json list with 'decision' filled in (null leaves that finding undecided), or a filled-in review sheet
    (a .csv from `curate review`). Validated strictly."""
    if path.suffix.lower() == ".csv":
        return AnswersReviewer(read_review_csv(path))
    raw, text = _load_json(path)
    if isinstance(raw, dict):
        answers = {str(k): _answer(f"{path}: finding {k}", v) for k, v in raw.items()}
    elif isinstance(raw, list):
        answers = _from_list(path, raw, text)
    else:
        raise UserInputError(f"{path}: expected a JSON object or the pending.json list.")
    return AnswersReviewer(answers)
