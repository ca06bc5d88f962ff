"""Personal data and secrets: one finding per span, proposing to replace exactly that span, inside the message or
field it sits in, with a typed placeholder ([EMAIL], [PHONE], [CARD], [IBAN], [IP], [SECRET]).

The rules are in `pii_rules`. A chat cell (a list of messages) is read message by message and a finding edits one
message's content (`path` [i, 'content']); an instruction layout's columns are read one by one. The finding's
message names the kind and where it is, never the value: the value is only in the action and the before/after
evidence, which the copilot forgets once the redaction is applied.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from curation_tools import __version__
from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset
from curation_tools.pii_rules import KINDS, PLACEHOLDERS, PiiKind, Span, find_pii
from curation_tools.schema import Action, Evidence, Finding, PlanHint, Proposal, ToolResult, ToolSpec

PROGRESS_EVERY = 2_000


class PiiParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[PiiKind] = Field(
        default_factory=lambda: list(KINDS), min_length=1, description="the kinds of personal data to find"
    )


def _values(cell: Any) -> Iterator[tuple[list[str | int] | None, str, str]]:
    """(path, where, text) for each text a cell holds: the cell, or each message of a chat."""
    if hasattr(cell, "tolist"):
        cell = cell.tolist()
    if isinstance(cell, str):
        yield None, "", cell
    elif isinstance(cell, list | tuple):
        for i, message in enumerate(cell):
            if isinstance(message, dict):
                key = "content" if "content" in message else "value" if "value" in message else None
                if key is not None and isinstance(message[key], str):
                    role = message.get("role", message.get("from", "message"))
                    yield [i, key], f"message {i + 1} ({role})", message[key]


def _finding(row_id: str, column: str, path: list[str | int] | None, where: str, text: str, span: Span) -> Finding:
    placeholder = PLACEHOLDERS[span.kind]
    place = f"{column}, {where}" if where else column
    return Finding(
        row_id=row_id,
        issue=f"pii_{span.kind}",
        score=span.score,
        action=Action(type="edit_cell", column=column, path=path, new_value=placeholder, replace=span.value),
        message=f"{span.why} in {place}: replace it with {placeholder}",
        evidence=Evidence(
            before=text,
            after=text[: span.start] + placeholder + text[span.end :],
            method="rules",
            notes=[span.why],
        ),
    )


def run(data: Dataset, params: PiiParams, ctx: ToolContext) -> ToolResult:
    started = time.perf_counter()
    data.require(["text"], SPEC.name)
    kinds = tuple(params.kinds)
    findings: list[Finding] = []
    frame, total = data.frame, len(data.frame)
    ctx.progress("reading rows for personal data", 0, total)
    for n, (row_id, row) in enumerate(zip(data.row_ids, frame[data.roles.text].itertuples(index=False), strict=True)):
        if n % PROGRESS_EVERY == 0:
            ctx.check_cancelled()
            ctx.progress("reading rows for personal data", n, total)
        for column, cell in zip(data.roles.text, row, strict=True):
            for path, where, text in _values(cell):
                for span in find_pii(text, kinds):
                    findings.append(_finding(row_id, column, path, where, text, span))
    ctx.progress("reading rows for personal data", total, total)
    counts = Counter(f.issue.removeprefix("pii_") for f in findings)
    rows = len({f.row_id for f in findings})
    summary = (
        f"{len(findings)} spans of personal data or secrets to redact in {rows} rows "
        f"({', '.join(f'{v} {k}' for k, v in counts.most_common())})"
        if findings
        else f"no personal data or secrets found in {total} rows"
    )
    proposal = Proposal(
        tool=SPEC.name, tool_version=__version__, params=params.model_dump(), findings=findings, summary=summary
    )
    report = {"kinds": list(kinds), "counts": dict(counts), "rows_with_pii": rows}
    return ToolResult(proposal=proposal, report=report, elapsed_s=time.perf_counter() - started)


SPEC = ToolSpec(
    name="pii",
    version=__version__,
    summary="Personal data and secrets (e-mail, phone, payment card, IBAN, IP address, API keys): each span "
    "redacted to a typed placeholder; the value is forgotten once applied.",
    issue_types=[f"pii_{kind}" for kind in KINDS],
    required_roles=["text"],
    params_model=PiiParams,
    run=run,
    stage=0,
    layouts=["chat", "instruction"],
    finds="pii",
    evidence="edit",
    plan_hint=lambda profile, edits: PlanHint(
        reason="personal data and secrets must go before anything is copied, embedded or exported"
    ),
)
