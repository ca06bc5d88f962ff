"""Subprocess for the SIGKILL test: applies drop decisions in a loop, printing each committed one."""

from __future__ import annotations

import sys
from pathlib import Path

from copilot.core.decisions import Decision
from copilot.ledger import Ledger
from curation_tools.io import load_dataset
from curation_tools.schema import Action, Finding, Proposal

data_path, workspace, rounds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
ledger = Ledger.open_or_create(workspace, load_dataset(data_path)[0])
print("ready", flush=True)
for _ in range(rounds):
    rows = ledger.dataset().row_ids[:50]
    proposal = Proposal(
        tool="test",
        tool_version="0",
        summary="drop 50",
        findings=[Finding(row_id=r, issue="test", score=1.0, action=Action(type="drop")) for r in rows],
    )
    result = ledger.apply(proposal, Decision.uniform(proposal, approve=True, decided_by="worker"))
    print(result.version_after, flush=True)
