"""Guidance: what a person knows about their data, as constraints every step obeys.

A `Guidance` is typed and merged from rules (`GuidanceRule`: a goal's words, a policy's `guidance:` block, a chat
line, a rule the review learned and the person accepted). It is enforced in code, not asked of a model: plans drop
the tools it turns off and take its parameter choices (`constrain_step`), the review node decides the findings
that would break it before anyone is asked (`GuidanceCheck`), and the ledger refuses an edit that breaks it
(`edit_refusal`), whoever approved it. `describe()` says it in words for the TUI, the CLI, reports and the card.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.core.decisions import FindingDecision
from curation_tools.benchmark_files import parse_spec
from curation_tools.schema import ActionType, Finding, JsonScalar

GUIDANCE_DECIDER = "guidance"


class RowScope(BaseModel):
    """Rows chosen by one column's values: `only` these rows may change, or these rows are `never` changed."""

    model_config = ConfigDict(extra="forbid")

    column: str
    values: list[str]
    mode: Literal["only", "never"] = "only"

    def allows(self, row: Mapping[str, Any]) -> bool:
        inside = str(row.get(self.column)) in self.values
        return inside if self.mode == "only" else not inside


class Guidance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    protected_classes: list[str] = Field(default_factory=list, description="rows of these classes never change")
    protected_rows: list[str] = Field(default_factory=list, description="these row ids never change")
    distinct: list[tuple[str, str]] = Field(
        default_factory=list, description="class pairs that differ on purpose: never relabel one into the other"
    )
    keep_issues: list[str] = Field(
        default_factory=list, description="issue types whose rows stay (e.g. near_duplicate: intended paraphrases)"
    )
    never_relabel: bool = Field(False, description="no label changes: a suggested relabel is listed as a flag")
    flag_only: bool = Field(False, description="change nothing: every finding is at most listed as a flag")
    tools_only: list[str] = Field(default_factory=list, description="run only these tools (empty: any)")
    tools_off: list[str] = Field(default_factory=list, description="never run these tools")
    scope: list[RowScope] = Field(default_factory=list, description="which rows may change, by a column's values")
    params: dict[str, dict[str, JsonScalar]] = Field(
        default_factory=dict, description="tool -> parameter choices, inside each tool's declared bounds"
    )
    benchmarks: list[str] = Field(
        default_factory=list, description="the run's benchmark files to check against, by name (empty: all)"
    )
    purpose: str = Field("", description="what the data is for, in the person's words (no constraint)")

    def is_empty(self) -> bool:
        return self == Guidance(purpose=self.purpose)

    def merged(self, other: Guidance) -> Guidance:
        """Both together: lists joined (each item once), flags or-ed, parameter choices of `other` win."""

        def union(a: list, b: list) -> list:
            out: list = []
            for item in [*a, *b]:
                if item not in out:  # equality, not hashing: scopes hold lists
                    out.append(item)
            return out

        params = {tool: dict(values) for tool, values in self.params.items()}
        for tool, values in other.params.items():
            params.setdefault(tool, {}).update(values)
        return Guidance(
            protected_classes=union(self.protected_classes, other.protected_classes),
            protected_rows=union(self.protected_rows, other.protected_rows),
            distinct=union(self.distinct, [p for p in other.distinct if p[::-1] not in self.distinct]),
            keep_issues=union(self.keep_issues, other.keep_issues),
            never_relabel=self.never_relabel or other.never_relabel,
            flag_only=self.flag_only or other.flag_only,
            tools_only=union(self.tools_only, other.tools_only),
            tools_off=union(self.tools_off, other.tools_off),
            scope=union(self.scope, other.scope),
            params=params,
            benchmarks=union(self.benchmarks, other.benchmarks),
            purpose="; ".join(p for p in (self.purpose, other.purpose) if p),
        )

    def describe(self) -> list[str]:
        """One sentence per constraint, in the order a person reads them."""
        lines = []
        if self.flag_only:
            lines.append("change nothing: findings are listed as flags only")
        if self.never_relabel:
            lines.append("never change a label: suggested relabels are listed as flags")
        lines += [f"never touch rows labelled {c!r} (nor relabel a row into it)" for c in self.protected_classes]
        if self.protected_rows:
            more = " ..." if len(self.protected_rows) > 10 else ""
            lines.append(f"never touch rows {', '.join(self.protected_rows[:10])}{more}")
        lines += [f"{a!r} and {b!r} are distinct: never relabel one into the other" for a, b in self.distinct]
        lines += [f"keep rows found as {issue.replace('_', ' ')}" for issue in self.keep_issues]
        if self.tools_only:
            lines.append(f"run only {', '.join(self.tools_only)}")
        lines += [f"do not run {tool}" for tool in self.tools_off]
        for s in self.scope:
            which = " or ".join(repr(v) for v in s.values)
            lines.append(f"{'only change' if s.mode == 'only' else 'never change'} rows whose {s.column} is {which}")
        for tool, values in self.params.items():
            lines += [f"{tool}: {name} = {value}" for name, value in values.items()]
        if self.benchmarks:
            lines.append(f"check contamination against {', '.join(self.benchmarks)} only")
        return lines

    def allows_tool(self, tool: str) -> bool:
        return tool not in self.tools_off and (not self.tools_only or tool in self.tools_only)

    def row_refusal(self, row_id: str, row: Mapping[str, Any] | None, label_column: str | None) -> str | None:
        """Why this row may not change at all, or None."""
        if row_id in self.protected_rows:
            return f"row {row_id} is protected"
        if row is not None and label_column and str(row.get(label_column)) in self.protected_classes:
            return f"rows labelled {row.get(label_column)!r} are protected"
        for scope in self.scope:
            if row is not None and not scope.allows(row):
                which = "only" if scope.mode == "only" else "not"
                return f"row {row_id} is outside the scope ({which} {scope.column} in {scope.values})"
        return None

    def label_refusal(self, old: Any, new: Any) -> str | None:
        """Why a label may not change from `old` to `new`, or None."""
        if self.flag_only:
            return "guidance says to change nothing"
        if self.never_relabel:
            return "guidance says never to change a label"
        if str(new) in self.protected_classes:
            return f"rows are never relabelled into protected class {new!r}"
        return self.pair_refusal(old, new)

    def pair_refusal(self, given: Any, other: Any) -> str | None:
        """Why a row labelled `given` may not be treated as an error for `other`: the person said they differ."""
        pair = (str(given), str(other))
        if pair in self.distinct or pair[::-1] in self.distinct:
            return f"{given!r} and {other!r} are distinct on purpose"
        return None


def edit_refusal(
    guidance: Guidance,
    tool: str,
    edit_action: ActionType,
    issue: str,
    row_id: str,
    row: Mapping[str, Any] | None,
    label_column: str | None,
    new_label: Any = None,
    suggested: Any = None,
) -> str | None:
    """Why the ledger must not make this edit under `guidance`, or None. A flag changes nothing and is always
    allowed; an added row touches no existing row; `suggested` is the finding's suggested label (a drop of a row
    doubted between two classes the person keeps distinct is refused too)."""
    if edit_action == ActionType.flag:
        return None
    if not guidance.allows_tool(tool):
        return f"guidance turns {tool} off"
    if edit_action == ActionType.add_rows:
        return "guidance says to change nothing" if guidance.flag_only else None
    if guidance.flag_only:
        return "guidance says to change nothing"
    if issue in guidance.keep_issues:
        return f"guidance keeps rows found as {issue.replace('_', ' ')}"
    if reason := guidance.row_refusal(row_id, row, label_column):
        return reason
    if edit_action == ActionType.relabel and row is not None and label_column:
        return guidance.label_refusal(row.get(label_column), new_label)
    if suggested is not None and row is not None and label_column:  # a drop of a row doubted between two classes
        return guidance.pair_refusal(row.get(label_column), suggested)
    return None


class GuidanceRule(BaseModel):
    """One piece of guidance as it was given: its constraints, the words (if any), where it came from and who."""

    rule_id: int | None = None
    guidance: Guidance
    words: str = ""
    source: Literal["goal", "policy", "chat", "review", "api"] = "goal"
    parser: str = Field("offline", description="'offline' (the phrasing parser), 'llm:MODEL', or 'typed'")
    added_by: str = ""
    added_at: str = ""


def combined(rules: list[GuidanceRule]) -> Guidance:
    out = Guidance()
    for rule in rules:
        out = out.merged(rule.guidance)
    return out


class GuidanceCheck:
    """Decides, before any reviewer is asked, the findings that approving would break guidance with: rejected by
    'guidance' with the reason, or, where only the label change is forbidden, approved as a flag (the row stays
    and is listed). `row_of` gives a row of the head by id (None: not there)."""

    def __init__(
        self, guidance: Guidance, row_of: Callable[[str], Mapping[str, Any] | None], label_column: str | None
    ) -> None:
        self.guidance = guidance
        self.row_of = row_of
        self.label_column = label_column

    def decision(self, tool: str, finding: Finding) -> FindingDecision | None:
        """The decision guidance makes for a finding before any reviewer is asked, or None."""
        settled = self.decide(tool, finding)
        if settled is None:
            return None
        approve, as_flag, reason = settled
        return FindingDecision(
            finding_id=finding.finding_id, approve=approve, as_flag=as_flag, decided_by=GUIDANCE_DECIDER, reason=reason
        )

    def _pair(self, row: Mapping[str, Any] | None, finding: Finding) -> str | None:
        suggested = finding.evidence.suggested_label
        if row is None or not self.label_column or suggested is None:
            return None
        return self.guidance.pair_refusal(row.get(self.label_column), suggested)

    def decide(self, tool: str, finding: Finding) -> tuple[bool, bool, str] | None:
        """(approve, as_flag, reason) for a finding guidance settles, else None."""
        g = self.guidance
        if g.is_empty():
            return None
        action = finding.action.type
        row = self.row_of(finding.row_id)
        if not g.allows_tool(tool):
            return False, False, f"guidance turns {tool} off"
        if action == ActionType.flag or action == ActionType.add_rows:
            if action == ActionType.add_rows and g.flag_only:
                return False, False, "guidance says to change nothing"
            if action == ActionType.flag and (reason := g.row_refusal(finding.row_id, row, self.label_column)):
                return False, False, reason
            if action == ActionType.flag and (reason := self._pair(row, finding)):
                return False, False, reason
            return None
        if g.flag_only:
            return True, True, "guidance says to change nothing: listed as a flag"
        if finding.issue in g.keep_issues:
            return False, False, f"guidance keeps rows found as {finding.issue.replace('_', ' ')}"
        if reason := g.row_refusal(finding.row_id, row, self.label_column):
            return False, False, reason
        if (
            action == ActionType.relabel
            and row is not None
            and self.label_column
            and (reason := g.label_refusal(row.get(self.label_column), finding.action.new_label))
        ):
            # no label changes at all: the doubt is still worth listing; a pair or class the person named: rejected
            as_flag = g.never_relabel
            return as_flag, as_flag, f"{reason}: listed as a flag" if as_flag else reason
        return None


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def benchmark_matches(name: str, spec: str) -> bool:
    """Whether a benchmark named in words ("mmlu", "the bank test set") is this run's benchmark file `spec`."""
    stem = _squash(parse_spec(spec)[0].stem)
    return bool(stem) and (_squash(name) in stem or stem in _squash(name))


def chosen_benchmarks(benchmarks: list[str], guidance: Guidance) -> list[str]:
    """The run's benchmark files guidance keeps (all of them when it names none)."""
    if not guidance.benchmarks:
        return list(benchmarks)
    return [b for b in benchmarks if any(benchmark_matches(n, b) for n in guidance.benchmarks)]


def normalised(guidance: Guidance) -> dict[str, Any]:
    """Guidance as a comparable value: lists sorted, pairs unordered, the purpose left out."""
    data = guidance.model_dump(mode="json", exclude={"purpose"})
    for key, value in data.items():
        if key == "distinct":
            data[key] = sorted(sorted(pair) for pair in value)
        elif key == "scope":
            data[key] = sorted((s["column"], sorted(s["values"]), s["mode"]) for s in value)
        elif isinstance(value, list):
            data[key] = sorted(value)
    return data
