"""What a run says while it works: one typed event per kind, a pydantic tagged union on `kind`.

The graph's nodes write plain dicts to LangGraph's stream; the Session turns each into one of these, numbers
it and appends it to events.jsonl ({format_version, seq, at, kind, data}); `curate run`, the TUI and the eval
match on the class. A new kind is a data model here, a member of `Event`, and the consumers that show it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from copilot.agents.plan import PlanStep
from copilot.core import formats
from copilot.core.decisions import PendingFinding


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartedData(_Data):
    data: str
    planner: str


class MessageData(_Data):
    text: str


class CostData(_Data):
    """A budget stop (text), or the run's LLM usage when it pauses or ends (the Usage fields)."""

    model_config = ConfigDict(extra="allow")
    text: str | None = None

    def shown(self) -> str:
        """One line a person reads: the budget stop, or the usage ("LLM: 3 calls (1 failed), 1,204 prompt + 96
        completion tokens, $0.0012")."""
        if self.text:
            return self.text
        usage = self.model_dump()
        failed = f" ({usage.get('failed_calls', 0)} failed)" if usage.get("failed_calls") else ""
        line = (
            f"LLM: {usage.get('calls', 0)} calls{failed}, {usage.get('prompt_tokens', 0):,} prompt + "
            f"{usage.get('completion_tokens', 0):,} completion tokens, ${usage.get('cost_usd', 0.0):.4f}"
        )
        return line + (f"; {usage['degraded']}" if usage.get("degraded") else "")


class PlanData(_Data):
    round: int
    steps: list[PlanStep]
    rationale: str
    planner: str


class StepStartedData(_Data):
    tool: str
    params: dict[str, Any]
    reason: str


class ProgressData(_Data):
    tool: str
    stage: str
    done: int
    total: int | None


class ProposalReadyData(_Data):
    tool: str
    proposal_id: str
    findings: int
    summary: str
    explanation: str
    elapsed_s: float


class DecisionNeededData(_Data):
    pending: list[PendingFinding]


class AppliedData(_Data):
    tool: str
    proposal_id: str
    edits: int
    conflicts: int


class FinishedData(_Data):
    status: str


class _Event(BaseModel):
    format_version: int = formats.EVENTS
    seq: int
    at: str


class Started(_Event):
    kind: Literal["started"] = "started"
    data: StartedData


class Message(_Event):
    kind: Literal["message"] = "message"
    data: MessageData


class Cost(_Event):
    kind: Literal["cost"] = "cost"
    data: CostData


class PlanMade(_Event):
    kind: Literal["plan"] = "plan"
    data: PlanData


class StepStarted(_Event):
    kind: Literal["step_started"] = "step_started"
    data: StepStartedData


class Progress(_Event):
    kind: Literal["progress"] = "progress"
    data: ProgressData


class ProposalReady(_Event):
    kind: Literal["proposal_ready"] = "proposal_ready"
    data: ProposalReadyData


class DecisionNeeded(_Event):
    kind: Literal["decision_needed"] = "decision_needed"
    data: DecisionNeededData


class Applied(_Event):
    kind: Literal["applied"] = "applied"
    data: AppliedData


class Finished(_Event):
    kind: Literal["finished"] = "finished"
    data: FinishedData


Event = Annotated[
    Started | Message | Cost | PlanMade | StepStarted | Progress | ProposalReady | DecisionNeeded | Applied | Finished,
    Field(discriminator="kind"),
]
EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def make_event(seq: int, at: str, kind: str, data: dict[str, Any]) -> Event:
    """The typed event for a kind and its fields (a ValidationError names a field a node got wrong)."""
    return EVENT.validate_python({"seq": seq, "at": at, "kind": kind, "data": data})
