"""A ledger writer in its own process, for the concurrency tests.

Usage: ledger_ops.py DATA WORKSPACE GATE OP [OP ...] where OP is drop:ROW, undo:DECISION or undo:latest.
Prints "ready", waits until the file GATE exists (so several writers start together), then runs the
operations in order and prints one JSON line per operation: the result, or the user error it met.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from copilot.core.decisions import Decision
from copilot.ledger import Ledger
from curation_tools.errors import UserInputError
from curation_tools.io import load_dataset
from curation_tools.schema import Action, Finding, Proposal


def drop_proposal(row: str) -> Proposal:
    finding = Finding(row_id=row, issue="test", score=1.0, action=Action(type="drop"))
    return Proposal(tool="test", tool_version="0", summary=f"drop {row}", findings=[finding])


def run(ledger: Ledger, op: str) -> dict:
    kind, _, arg = op.partition(":")
    try:
        if kind == "drop":
            proposal = drop_proposal(arg)
            result = ledger.apply(proposal, Decision.uniform(proposal, approve=True, decided_by="worker"))
        elif kind == "undo":
            result = ledger.undo(None if arg == "latest" else int(arg), by="worker")
        else:
            raise SystemExit(f"unknown op {op}")
    except UserInputError as error:
        return {"op": op, "error": str(error)}
    return {"op": op, "decision_id": result.decision_id, "edits": len(result.edits), "conflicts": len(result.conflicts)}


def main() -> None:
    data, workspace, gate, *ops = sys.argv[1:]
    ledger = Ledger.open_or_create(Path(workspace), load_dataset(data)[0])
    print("ready", flush=True)
    while not Path(gate).exists():  # the test creates the gate once every writer is ready
        time.sleep(0.001)
    for op in ops:
        print(json.dumps(run(ledger, op)), flush=True)


if __name__ == "__main__":
    main()
