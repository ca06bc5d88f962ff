"""The run graph's nodes, each called alone with a state and a runtime: no graph, no checkpointer."""

from __future__ import annotations

import shutil
import threading

import pytest
from langgraph.runtime import Runtime

from copilot.agents.heuristic import HeuristicPlanner
from copilot.core.config import Settings
from copilot.ledger import Ledger
from copilot.review.policy import load_policy
from copilot.run import graph
from copilot.run.graph import RunContext
from curation_tools.io import load_dataset

from .conftest import EXAMPLE


@pytest.fixture
def runtime(tmp_path):
    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    Ledger.open_or_create(tmp_path / "ledger", load_dataset(data)[0])
    events: list[dict] = []
    context = RunContext(
        workspace=tmp_path,
        settings=Settings(cache_dir=tmp_path / "cache"),
        planner=HeuristicPlanner(),
        policy=load_policy("approve-all"),
        benchmarks=[],
        goal="",
        seed=0,
        finish=lambda state, progress: {},
        cancel=threading.Event(),
    )
    return Runtime(context=context, stream_writer=events.append), events


def test_profile_then_plan(runtime):
    runtime, events = runtime
    state = graph.profile({}, runtime)
    assert state["profile"]["n_rows"] == 512 and state["round"] == 0
    planned = graph.plan(state, runtime)
    assert [s["tool"] for s in planned["plan"]] == ["dedup"]
    assert any(e["kind"] == "plan" for e in events)


def test_dispatch_fans_out_one_worker_per_step_or_finishes():
    assert graph.dispatch({"plan": [], "round": 0}) == "finish"
    sends = graph.dispatch({"plan": [{"tool": "dedup"}, {"tool": "decontam"}], "round": 1})
    assert [s.node for s in sends] == ["worker", "worker"] and sends[1].arg["round"] == 1


def test_worker_review_apply_on_their_own(runtime):
    runtime, _ = runtime
    task = {"step": {"tool": "dedup", "params": {"method": ["exact"]}, "reason": "test"}, "round": 0}
    out = graph.worker(task, runtime)
    (proposal_id,) = out["proposals"]["0"]
    with runtime.context.ledger() as ledger:
        assert ledger.has_proposal(proposal_id)  # the ledger is the one proposal store
    state = {"round": 0, "proposals": out["proposals"], "decisions": [], "outcomes": [], "plan": [task["step"]]}
    reviewed = graph.review(state, runtime)  # approve-all: no interrupt
    (decision,) = reviewed["decisions"]
    assert all(d["approve"] and d["decided_by"] == "policy:approve-all" for d in decision["findings"].values())
    applied = graph.apply({**state, **reviewed}, runtime)
    assert applied["round"] == 1 and applied["outcomes"][0]["applied_edits"] == len(decision["findings"]) > 0
    again = graph.apply({**state, **reviewed}, runtime)  # idempotent: the ledger already holds the decision
    assert again["outcomes"][0]["applied_edits"] == applied["outcomes"][0]["applied_edits"]
    with runtime.context.ledger() as ledger:
        assert len(ledger.decisions()) == 1
