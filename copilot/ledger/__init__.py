"""Dataset versions and the edit ledger: apply decisions, undo, redo, diff, explain, export.

`store` keeps the files (SQLite, versions, the input's copy) and checks them when read; `rules` are the edits a
decision makes and their inverses; `queries` answer questions about the history; `ledger` joins them as the
`Ledger` every client uses.
"""

from copilot.ledger.ledger import Ledger
from copilot.ledger.models import (
    CellChange,
    Conflict,
    DecisionInfo,
    Edit,
    ExportInfo,
    OperationResult,
    RowEvent,
    RowHistory,
    VersionDiff,
    VersionInfo,
)
from copilot.ledger.store import default_workspace
from copilot.ledger.values import jsonable

__all__ = [
    "CellChange",
    "Conflict",
    "DecisionInfo",
    "Edit",
    "ExportInfo",
    "Ledger",
    "OperationResult",
    "RowEvent",
    "RowHistory",
    "VersionDiff",
    "VersionInfo",
    "default_workspace",
    "jsonable",
]
