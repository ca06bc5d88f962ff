"""The run graph (LangGraph): profile -> plan -> workers (parallel) -> review (one interrupt) -> apply -> plan ...
-> finish. State holds JSON values and ids only; proposals and edits live in the ledger. Checkpoints go to
SQLite in the workspace, so a killed run resumes where it stopped.

Each node is a module-level function of (state, runtime) where `runtime.context` is the run's `RunContext`
(planner, policy, settings, judges; rebuilt from run.json on resume, never checkpointed) and
`runtime.stream_writer` takes its events: a test can call a node alone. `build_graph` only wires them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt

from copilot.agents.plan import InvalidPlan, Planner, PlanningContext, StepOutcome, validate_plan
from copilot.core import formats
from copilot.core.config import Settings
from copilot.core.decisions import Decision, FindingDecision, PendingFinding
from copilot.core.guidance import chosen_benchmarks
from copilot.ledger import Ledger
from copilot.llm.budget import BudgetExceeded
from copilot.review.policy import Policy, PolicyReviewer
from curation_tools.collector import many_objects
from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset
from curation_tools.errors import UserInputError
from curation_tools.profile import ProfileParams
from curation_tools.profile import run as run_profile
from curation_tools.progress import ProgressFn, heartbeat
from curation_tools.registry import get_tool, run_tool
from curation_tools.schema import Proposal, ToolSpec
from curation_tools.threads import usable_cpus

EXAMPLES = 3


def explain_proposal(proposal: Proposal, reason: str) -> str:
    """Why the step ran, what it proposes by issue and action, and its most certain findings."""
    if not proposal.findings:
        return f"{proposal.tool} ran because {reason or 'the plan asked for it'}; it proposes no change."
    kinds = Counter((f.issue, f.action.type.value) for f in proposal.findings)
    parts = ", ".join(f"{n} {issue} ({action})" for (issue, action), n in kinds.most_common())
    top = sorted(proposal.findings, key=lambda f: -f.score)[:EXAMPLES]
    examples = "; ".join(f"row {f.row_id}: {f.message or f.issue} (score {f.score:.2f})" for f in top)
    return (
        f"{proposal.tool} ran because {reason or 'the plan asked for it'}. It proposes {parts} among the rows it "
        f"saw. Most certain: {examples}."
    )


def _merge_rounds(old: dict[str, list[str]] | None, new: dict[str, list[str]] | None) -> dict[str, list[str]]:
    merged = {k: list(v) for k, v in (old or {}).items()}
    for key, ids in (new or {}).items():
        merged[key] = sorted({*merged.get(key, []), *ids})
    return merged


class RunState(TypedDict, total=False):
    round: int
    profile: dict[str, Any]
    plan: list[dict[str, Any]]
    rationale: str
    proposals: Annotated[dict[str, list[str]], _merge_rounds]
    decisions: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    status: str
    notes: list[str]
    planned_by: list[dict[str, Any]]  # each round's planner: the configured one, or its fallback and why


@dataclass
class RunContext:
    """What nodes need besides state: the run's planner, policy, settings and LLM helpers."""

    workspace: Path
    settings: Settings
    planner: Planner
    policy: Policy
    benchmarks: list[str]
    goal: str
    seed: int
    finish: Callable[[RunState, ProgressFn], dict[str, Any]]
    """writes the run's outputs, reporting each file it writes"""
    judges: dict[str, Any] = field(default_factory=dict)
    skip: list[str] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    held: dict[str, Proposal] = field(default_factory=dict)
    """the proposals workers stored this round, until applied: parsing one back takes 9 s at 261,208 findings"""

    def ledger(self) -> Ledger:
        """A connection of this node's own (nodes run in worker threads); use it as a context manager."""
        return Ledger(self.workspace / "ledger")

    def proposal(self, proposal_id: str) -> Proposal:
        if proposal_id in self.held:
            return self.held[proposal_id]
        with self.ledger() as ledger:
            if not ledger.has_proposal(proposal_id):  # a run started before proposals lived in the ledger
                legacy = self.workspace / "proposals" / f"{proposal_id}.json"
                ledger.store_proposal(Proposal.model_validate(formats.load_json(legacy, "proposal", formats.PROPOSAL)))
            return ledger.proposal(proposal_id)


def emit(kind: str, **data: Any) -> None:
    """An event from code running inside a node that has no `runtime` at hand (a planner's notices)."""
    get_stream_writer()({"kind": kind, **data})


def _say(runtime: Runtime[RunContext], kind: str, **data: Any) -> None:
    runtime.stream_writer({"kind": kind, **data})


def _reporter(runtime: Runtime[RunContext], tool: str) -> ProgressFn:
    """Progress events of `tool` ("run" for the run's own steps)."""
    return lambda stage, done, total: _say(runtime, "progress", tool=tool, stage=stage, done=done, total=total)


def profile(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    with heartbeat(_reporter(runtime, "run"), ("profiling", 0, None)):  # 19 s at 1M rows
        with runtime.context.ledger() as ledger:
            data = ledger.dataset()
        result = run_profile(data, ProfileParams(), ToolContext(cache_dir=runtime.context.settings.cache_dir))
    _say(runtime, "message", text=f"profile: {result.proposal.summary}")
    return {"profile": result.report, "round": 0, "outcomes": [], "decisions": [], "notes": []}


def plan(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    rc = runtime.context
    with rc.ledger() as ledger:
        roles = ledger.roles.model_dump()
        guidance = ledger.guidance()  # read each round: a rule accepted in review holds from the next plan
    context = PlanningContext(
        profile=state["profile"],
        roles=roles,
        benchmarks=chosen_benchmarks(rc.benchmarks, guidance),
        guidance=guidance,
        goal=rc.goal,
        round=state["round"],
        done=[StepOutcome.model_validate(o) for o in state["outcomes"]],
        skip=rc.skip,
    )
    try:
        made = validate_plan(rc.planner.plan(context), context)
    except BudgetExceeded as error:
        _say(runtime, "cost", text=str(error))
        return {"plan": [], "status": "budget_reached", "notes": [*state["notes"], str(error)]}
    except InvalidPlan as error:  # a planner's own fallback failed too: stop rather than run anything unchecked
        _say(runtime, "message", text=f"plan rejected: {error}")
        return {"plan": [], "status": "plan_rejected", "notes": [*state["notes"], str(error)]}
    steps = [s.model_dump() for s in made.steps]
    made_by = made.made_by or rc.planner.name
    _say(runtime, "plan", round=state["round"] + 1, steps=steps, rationale=made.rationale, planner=made_by)
    planned_by = [*state.get("planned_by", []), {"round": state["round"] + 1, "planner": made_by}]
    return {"plan": steps, "rationale": made.rationale, "planned_by": planned_by}


def dispatch(state: RunState) -> str | list[Send]:
    if not state["plan"]:
        return "finish"
    parallel = len(state["plan"])  # the round's steps share the cores: none oversubscribes them
    return [Send("worker", {"step": step, "round": state["round"], "parallel": parallel}) for step in state["plan"]]


def worker(task: dict[str, Any], runtime: Runtime[RunContext]) -> dict[str, Any]:
    rc = runtime.context
    step, round_ = task["step"], task["round"]
    spec = get_tool(step["tool"])
    _say(runtime, "step_started", tool=spec.name, params=step["params"], reason=step.get("reason", ""))
    with rc.ledger() as ledger:
        data = ledger.dataset()

    with heartbeat(_reporter(runtime, spec.name), ("starting", 0, None)) as progress:
        return _run_step(spec, data, step, round_, progress, task, runtime)


def _run_step(
    spec: ToolSpec,
    data: Dataset,
    step: dict[str, Any],
    round_: int,
    progress: ProgressFn,
    task: dict[str, Any],
    runtime: Runtime[RunContext],
) -> dict[str, Any]:
    rc = runtime.context
    ctx = ToolContext(
        cache_dir=rc.settings.cache_dir,
        seed=rc.seed,
        progress=progress,
        embedder_spec=rc.settings.embedder,
        engine_spec=rc.settings.engine_spec,
        workspace=rc.workspace,
        cancel=rc.cancel,
        threads=max(1, usable_cpus() // task.get("parallel", 1)),
        **rc.judges,
    )
    started = time.perf_counter()
    try:
        proposal = run_tool(spec, data, spec.params_model.model_validate(step["params"]), ctx).proposal
    except UserInputError as error:  # e.g. classes smaller than the folds: the run goes on without this step
        proposal = Proposal(
            tool=spec.name, tool_version="-", params=step["params"], summary=f"could not run: {error}", findings=[]
        )
        _say(runtime, "message", text=f"{spec.name} could not run on this data; the run goes on without it. {error}")
    with rc.ledger() as ledger:
        ledger.store_proposal(proposal)
    rc.held[proposal.proposal_id] = proposal
    _say(
        runtime,
        "proposal_ready",
        tool=spec.name,
        proposal_id=proposal.proposal_id,
        findings=len(proposal.findings),
        summary=proposal.summary,
        explanation=explain_proposal(proposal, step.get("reason", "")),
        elapsed_s=round(time.perf_counter() - started, 2),
    )
    return {"proposals": {str(round_): [proposal.proposal_id]}}


def review(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """The policy decides what its rules cover; the rest waits for the next reviewer (one interrupt, after fan-in),
    who answers every pending finding through `Session.decide` (a person, a decisions file, a simulated reviewer)."""
    rc = runtime.context
    with heartbeat(_reporter(runtime, "run"), ("reviewing", 0, None)), many_objects():
        loaded = {pid: rc.proposal(pid) for pid in state["proposals"].get(str(state["round"]), [])}
        ids = sorted(loaded, key=lambda p: (loaded[p].tool, p))
        policy = PolicyReviewer(rc.policy)
        with rc.ledger() as ledger:
            check = ledger.guidance_check()
        decided: dict[str, FindingDecision] = {}
        pending = []
        for pid in ids:
            proposal = loaded[pid]
            for finding in proposal.findings:
                decision = check.decision(proposal.tool, finding) or policy.decide(proposal.tool, finding)
                if decision is not None:
                    decided[finding.finding_id] = decision
                    continue
                pending.append(PendingFinding.of(proposal, finding))
    if pending:
        # the checkpoint holds JSON; resumes with {finding_id: FindingDecision as JSON}, every pending one
        answers = interrupt({"pending": [p.model_dump(mode="json", exclude_none=True) for p in pending]})
        for item in pending:
            decided[item.finding_id] = FindingDecision.model_validate(answers[item.finding_id])
    decisions = [
        {
            "proposal_id": pid,
            "findings": {f.finding_id: decided[f.finding_id].model_dump(mode="json") for f in loaded[pid].findings},
        }
        for pid in ids
    ]
    return {"decisions": [*state["decisions"], *decisions]}


def apply(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    rc = runtime.context
    reasons = {step["tool"]: step.get("reason", "") for step in state.get("plan", [])}
    outcomes = list(state["outcomes"])
    with rc.ledger() as ledger, many_objects():
        already = {d.proposal_id: d.n_edits for d in ledger.decisions()}
        for entry in state["decisions"]:
            pid = entry["proposal_id"]
            if any(o.get("proposal_id") == pid for o in outcomes):
                continue
            proposal = rc.proposal(pid)
            decision = Decision(
                proposal_id=pid,
                findings={
                    fid: FindingDecision.model_validate({"finding_id": fid, **d})
                    for fid, d in entry["findings"].items()
                },
                reason=f"run round {state['round'] + 1}",
            )
            approved = sum(d.approve for d in decision.findings.values())
            if pid not in already:  # idempotent: a run killed after the ledger commit does not apply twice
                with heartbeat(_reporter(runtime, proposal.tool), ("applying", 0, approved)):
                    result = ledger.apply(proposal, decision)
                edits = len(result.edits)
                conflicts = len(result.conflicts)
                _say(runtime, "applied", tool=proposal.tool, proposal_id=pid, edits=edits, conflicts=conflicts)
            else:
                edits = already[pid]
            rc.held.pop(pid, None)
            outcome = StepOutcome(
                tool=proposal.tool,
                round=state["round"] + 1,
                findings=len(proposal.findings),
                approved=approved,
                rejected=len(decision.findings) - approved,
                applied_edits=edits,
                summary=proposal.summary,
            )
            outcomes.append(
                {
                    **outcome.model_dump(),
                    "proposal_id": pid,
                    "explanation": explain_proposal(proposal, reasons.get(proposal.tool, "")),
                }
            )
    return {"outcomes": outcomes, "round": state["round"] + 1}


def finish(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    status = state.get("status") or "finished"

    with heartbeat(_reporter(runtime, "run"), ("writing the outputs", 0, None)) as progress, many_objects():
        runtime.context.finish({**state, "status": status}, progress)
    _say(runtime, "finished", status=status)
    return {"status": status}


def build_graph(checkpointer):
    """The run graph, compiled; run it with `context=RunContext(...)`."""
    graph = StateGraph(RunState, context_schema=RunContext)
    for node in (profile, plan, worker, review, apply, finish):
        graph.add_node(node.__name__, node)
    graph.add_edge(START, "profile")
    graph.add_edge("profile", "plan")
    graph.add_conditional_edges("plan", dispatch, ["worker", "finish"])
    graph.add_edge("worker", "review")
    graph.add_edge("review", "apply")
    graph.add_edge("apply", "plan")
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer)
