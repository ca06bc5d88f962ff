"""Quality flags for instruction and chat data (SFT rows): empty, truncated, refusing, repeating, wrong-language
and outlier-length replies (the checks are in `sft_checks`). Flags only: a person decides what a flagged row is
worth; nothing is dropped or rewritten by this tool.

A reply is each assistant message of a chat (its request: the user message before it), or the last column of an
instruction layout (its request: the columns before it).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, Literal, get_args

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from curation_tools import __version__
from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset
from curation_tools.schema import Action, Evidence, Finding, PlanHint, Proposal, ToolResult, ToolSpec
from curation_tools.sft_checks import Endings, Issue, check_pair, length_outliers

REPLY_ROLES = {"assistant", "gpt", "bot", "model", "chatbot"}
REQUEST_ROLES = {"user", "human", "prompter"}
FlagKind = Literal["empty_reply", "truncated_reply", "refusal", "repeated_turn", "language_mismatch", "extreme_length"]
FLAG_KINDS: list[str] = list(get_args(FlagKind))
PROGRESS_EVERY = 2_000


class SftQualityParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checks: list[FlagKind] = Field(
        default_factory=lambda: list(FLAG_KINDS), min_length=1, description="the flags to look for"
    )


class Pair(BaseModel):
    row_id: str
    where: str
    request: str
    reply: str


def _message_text(message: Any) -> str:
    value = message.get("content", message.get("value", "")) if isinstance(message, dict) else ""
    return value if isinstance(value, str) else ""


def pairs_of(data: Dataset) -> Iterator[Pair]:
    columns = data.roles.text
    for row_id, row in zip(data.row_ids, data.frame[columns].itertuples(index=False), strict=True):
        if len(columns) > 1:  # an instruction layout: the last column answers the ones before it
            *asked, answer = ("" if pd.isna(v) else str(v) for v in row)
            yield Pair(row_id=row_id, where=columns[-1], request="\n".join(a for a in asked if a), reply=answer)
            continue
        cell = row[0].tolist() if hasattr(row[0], "tolist") else row[0]
        if not isinstance(cell, list):
            continue
        request = ""
        for i, message in enumerate(cell):
            role = str(message.get("role", message.get("from", ""))).lower() if isinstance(message, dict) else ""
            if role in REQUEST_ROLES:
                request = _message_text(message)
            elif role in REPLY_ROLES:
                yield Pair(
                    row_id=row_id, where=f"message {i + 1} ({role})", request=request, reply=_message_text(message)
                )


def _finding(pair: Pair, issue: Issue) -> Finding:
    shown = pair.reply if len(pair.reply) <= 300 else f"{pair.reply[:150]} … {pair.reply[-150:]}"
    return Finding(
        row_id=pair.row_id,
        issue=issue.kind,
        score=issue.score,
        action=Action(type="flag"),
        message=f"{issue.why} ({pair.where})",
        evidence=Evidence(method="rules", notes=[issue.why, f"reply: {shown}"]),
    )


def run(data: Dataset, params: SftQualityParams, ctx: ToolContext) -> ToolResult:
    started = time.perf_counter()
    data.require(["text"], SPEC.name)
    pairs = list(pairs_of(data))
    endings = Endings([p.reply for p in pairs])
    wanted = set(params.checks)
    findings: list[Finding] = []
    ctx.progress("checking replies", 0, len(pairs))
    for n, pair in enumerate(pairs):
        if n % PROGRESS_EVERY == 0:
            ctx.check_cancelled()
            ctx.progress("checking replies", n, len(pairs))
        findings += [_finding(pair, i) for i in check_pair(pair.request, pair.reply, endings) if i.kind in wanted]
    if "extreme_length" in wanted:
        for index, why in length_outliers([p.reply for p in pairs]).items():
            findings.append(_finding(pairs[index], Issue("extreme_length", f"an outlier length: {why}", 0.6)))
    ctx.progress("checking replies", len(pairs), len(pairs))
    counts = Counter(f.issue for f in findings)
    summary = (
        f"{len(findings)} replies flagged ({', '.join(f'{v} {k}' for k, v in counts.most_common())}) of {len(pairs)}"
        if findings
        else f"no reply flagged among {len(pairs)}"
    )
    proposal = Proposal(
        tool=SPEC.name, tool_version=__version__, params=params.model_dump(), findings=findings, summary=summary
    )
    report = {"replies": len(pairs), "counts": dict(counts), "endings": endings.shares}
    return ToolResult(proposal=proposal, report=report, elapsed_s=time.perf_counter() - started)


SPEC = ToolSpec(
    name="sft-quality",
    version=__version__,
    summary="Flags instruction and chat replies that are empty, truncated, refusals, repeated, in another language "
    "than the request, or of outlier length.",
    issue_types=FLAG_KINDS,
    required_roles=["text"],
    params_model=SftQualityParams,
    run=run,
    stage=2,
    layouts=["chat", "instruction"],
    evidence="text",
    plan_hint=lambda profile, edits: PlanHint(
        reason="replies that are empty, cut off, refusing or in another language teach a model to do so"
    ),
)
