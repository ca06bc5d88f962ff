"""The edit rules: what a decided finding does to a version, and what its inverse does, on a working copy of the
version's rows. No SQL and no files here: the ledger reads the head, runs these, and commits the result.

An edit is undone by running it backwards; it conflicts (and is reported, not applied) where the row or cell is no
longer what the edit expects: removed by an earlier decision, or changed since.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd

from copilot.core.decisions import FindingDecision
from copilot.ledger.models import Edit
from copilot.ledger.store import ORD_COL, ROW_COL
from copilot.ledger.values import jsonable, same
from curation_tools.label_names import class_values, naming_columns
from curation_tools.schema import ActionType, Finding


class Working:
    """A version being edited: removals and additions are collected and applied once, at the end."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame.copy()
        self.removed: set[str] = set()
        self.added: dict[str, dict[str, Any]] = {}
        self._classes: dict[tuple[str, int], dict[str, Any] | None] = {}
        self._companions: dict[str, dict[str, dict[str, Any]]] = {}
        self._arrays: dict[str, Any] | None = None
        """each column's values, for reading a row a cell at a time (a row as a Series took 90 us, 49 of the 67 s
        a 261,208-drop decision took to apply); dropped on any change, as a column can be replaced"""

    def has(self, row: str) -> bool:
        return row in self.added or (row in self.frame.index and row not in self.removed)

    def record(self, row: str) -> dict[str, Any]:
        if row in self.added:
            return dict(self.added[row])
        if self._arrays is None:
            self._arrays = {column: self.frame[column].array for column in self.frame.columns}
        position = self.frame.index.get_loc(row)
        return jsonable({column: values[position] for column, values in self._arrays.items()})

    def get(self, row: str, column: str) -> Any:
        return self.added[row][column] if row in self.added else self.frame.at[row, column]

    def companions(self, label: str, columns: list[str]) -> dict[str, dict[str, Any]]:
        """Columns that name the label one-to-one (see curation_tools.label_names), found once per batch."""
        if label not in self._companions:
            self._companions[label] = naming_columns(self.frame, label, columns)
        return self._companions[label]

    def label_class(self, column: str, label: Any) -> tuple[bool, Any]:
        """(known, value): the column's class equal to `label`, typed as the column holds it ("1" is 1 in an
        integer column). Unknown when no row holds it. Columns of lists (multi-label) take any label."""
        key = (column, len(self.added))
        if key not in self._classes:
            values = self.frame[column]
            if self.added:
                values = pd.concat([values, pd.Series([r.get(column) for r in self.added.values()], dtype=object)])
            self._classes[key] = class_values(values)
        by_text = self._classes[key]
        if by_text is None:
            return True, label
        return str(label) in by_text, by_text.get(str(label), label)

    def set(self, row: str, column: str, value: Any) -> None:
        if row in self.added:
            self.added[row][column] = value
            return
        self._arrays = None
        try:
            self.frame.at[row, column] = value
        except (TypeError, ValueError):  # the value does not fit the column's dtype (e.g. str into int)
            self.frame[column] = self.frame[column].astype(object)
            self.frame.at[row, column] = value

    def add(self, record: dict[str, Any]) -> None:
        row = str(record[ROW_COL])
        if row in self.removed:  # removed earlier in this same batch: restore it in place
            self.removed.discard(row)
            for column, value in record.items():
                self.set(row, column, value)
            return
        self.added[row] = dict(record)

    def remove(self, row: str) -> None:
        if self.added.pop(row, None) is None:
            self.removed.add(row)

    def next_ord(self) -> float:
        ords = [float(self.frame[ORD_COL].max()) if len(self.frame) else -1.0]
        ords += [float(r[ORD_COL]) for r in self.added.values()]
        return max(ords) + 1.0

    def result(self) -> pd.DataFrame:
        frame = self.frame.drop(index=list(self.removed)) if self.removed else self.frame
        if self.added:
            extra = pd.DataFrame(list(self.added.values())).set_index(ROW_COL, drop=False)
            frame = pd.concat([frame, extra])
        return frame


def apply_edit(work: Working, edit: Edit, forward: bool) -> str | None:
    """Carry out one edit (or its inverse) on the working set. Returns a conflict reason or None."""
    row = edit.row_id
    present = work.has(row)
    if edit.action in (ActionType.drop, ActionType.add_rows):
        if (edit.action == ActionType.add_rows) == forward:
            if present:
                return f"row {row} already exists"
            work.add(edit.old_value if edit.action == ActionType.drop else edit.new_value)
            return None
        if not present:
            return f"row {row} is not in the current version (removed by an earlier decision)"
        work.remove(row)
        return None
    if not present:
        return f"row {row} is not in the current version (removed by an earlier decision)"
    if edit.action == ActionType.flag:
        return None
    expected, target = (edit.old_value, edit.new_value) if forward else (edit.new_value, edit.old_value)
    current = work.get(row, edit.column)
    if not same(current, expected):
        return f"row {row}'s {edit.column} is now {jsonable(current)!r}, not {jsonable(expected)!r}"
    work.set(row, edit.column, target)
    return None


def companion_edits(work: Working, edit: Edit, columns: list[str]) -> list[Edit]:
    """A relabel's edits to the columns that name the label (see Working.companions)."""
    if edit.action != ActionType.relabel or not edit.column:
        return []
    edits = []
    for column, names in work.companions(edit.column, columns).items():
        old, new = work.get(edit.row_id, column), names.get(str(edit.new_value))
        if new is not None and not same(old, new):
            edits.append(
                edit.model_copy(
                    update={
                        "action": ActionType.edit_cell,
                        "column": column,
                        "old_value": jsonable(old),
                        "new_value": new,
                    }
                )
            )
    return edits


def value_at(cell: Any, path: list[str | int] | None) -> Any:
    """The value at `path` inside a JSON cell (None where there is none); the cell itself for no path."""
    holder = jsonable(cell)
    for key in path or []:
        if isinstance(holder, list) and isinstance(key, int) and -len(holder) <= key < len(holder):
            holder = holder[key]
        elif isinstance(holder, dict) and str(key) in holder:
            holder = holder[str(key)]
        else:
            return None
    return holder


def with_value_at(cell: Any, path: list[str | int], value: Any) -> tuple[bool, Any]:
    """(True, the cell with the value at `path` replaced, as a new value) for a JSON cell (a chat's `messages`
    list, a dict); (False, why not) where there is no value at that position."""
    changed = copy.deepcopy(jsonable(cell))
    holder: Any = changed
    for depth, key in enumerate(path):
        if isinstance(holder, list) and isinstance(key, int) and -len(holder) <= key < len(holder):
            index: str | int = key
        elif isinstance(holder, dict) and str(key) in holder:
            index = str(key)
        else:
            return False, f"no value at {'/'.join(map(str, path[: depth + 1]))}"
        if depth == len(path) - 1:
            holder[index] = value
        else:
            holder = holder[index]
    return True, changed


def plan_edit(
    work: Working, finding: Finding, decided: FindingDecision, columns: list[str], label_column: str | None
) -> Edit | str:
    """The edit an approved finding makes on the working set, or why it cannot be made (a conflict)."""
    action = finding.action
    base = {
        "row_id": finding.row_id,
        "action": action.type,
        "finding_id": finding.finding_id,
        "issue": finding.issue,
        "score": finding.score,
        "decided_by": decided.decided_by,
    }
    row = finding.row_id
    if action.type == ActionType.add_rows:
        if not action.new_row:
            return "add_rows finding without a row"
        unknown = set(action.new_row) - set(columns)
        if unknown:
            return f"new row has columns the data lacks: {', '.join(sorted(unknown))}"
        record = {c: action.new_row.get(c) for c in columns}
        record.update({ROW_COL: row, ORD_COL: work.next_ord()})
        return Edit(**base, new_value=jsonable(record))
    if not work.has(row):
        return f"row {row} is not in the current version (removed by an earlier decision)"
    if decided.as_flag:
        return Edit(**{**base, "action": ActionType.flag})
    if action.type == ActionType.drop or (action.type == ActionType.flag and decided.drop_row):
        return Edit(**{**base, "action": ActionType.drop}, old_value=work.record(row))
    relabelled_by_person = decided.new_label is not None and bool(label_column)
    if action.type == ActionType.flag and not relabelled_by_person:
        return Edit(**base)
    if action.type in (ActionType.relabel, ActionType.flag):  # a flag a person gave a label is a relabel
        base["action"] = ActionType.relabel
        if not label_column:
            return "relabel needs a label column and this dataset has none"
        column = label_column
        wanted = decided.new_label if decided.new_label is not None else action.new_label
        known, new_value = work.label_class(column, wanted)
        if not known:
            return f"label {wanted!r} is not a class of column {column!r}: no row holds it"
    else:
        column = action.column
        if column not in columns:
            return f"edit_cell names an unknown column {column!r}"
        new_value = action.new_value
        if action.replace is not None:  # a span inside the value (a redaction): spans of one value compose
            current = value_at(work.get(row, column), action.path)
            if not isinstance(current, str) or action.replace not in current:
                return f"row {row}'s {column} no longer holds the text this finding replaces"
            new_value = current.replace(action.replace, str(action.new_value), 1)
        if action.path:  # a value inside the cell (a message of a chat): the edit holds the whole cell before/after
            placed, new_value = with_value_at(work.get(row, column), action.path, new_value)
            if not placed:
                return f"row {row}'s {column} has {new_value}"
    old = work.get(row, column)
    if same(old, new_value):
        return f"row {row}'s {column} is already {jsonable(old)!r}"
    return Edit(**{**base, "column": column, "old_value": jsonable(old), "new_value": jsonable(new_value)})
