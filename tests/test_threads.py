"""Thread discipline: the CPU budget respects affinity and the cgroup quota, and every OpenMP/BLAS/onnxruntime
pool inside a tool runs under the tool's budget (a round's parallel steps split it)."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from curation_tools import threads
from curation_tools.context import ToolContext
from curation_tools.label_errors import LabelErrorParams
from curation_tools.label_errors import run as label_errors

from .conftest import make_dataset


@pytest.mark.parametrize(
    "allowed, cpu_max, expected",
    [(16, "200000 100000", 2), (16, "max 100000", 16), (1, "400000 100000", 1), (8, None, 8), (4, "150000 100000", 2)],
)
def test_the_budget_is_affinity_capped_by_the_cgroup_quota(monkeypatch, tmp_path, allowed, cpu_max, expected):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(allowed)))
    quota = tmp_path / "cpu.max"
    if cpu_max is not None:
        quota.write_text(cpu_max + "\n")
    monkeypatch.setattr(threads, "CGROUP_CPU_MAX", quota)
    assert threads.usable_cpus() == expected


@pytest.mark.parametrize("budget", [1, 2])
def test_label_errors_models_run_under_the_tools_budget(monkeypatch, tmp_path, budget):
    """Inside each model fit of the tabular views (HistGradientBoosting's OpenMP loop included), no thread pool
    is larger than the budget."""
    from sklearn.datasets import load_wine
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_info

    seen: list[int] = []
    for model in (HistGradientBoostingClassifier, LogisticRegression):
        fit = model.fit

        def spying(self, *args, _fit=fit, **kwargs):
            seen.append(max(pool["num_threads"] for pool in threadpool_info()))
            return _fit(self, *args, **kwargs)

        monkeypatch.setattr(model, "fit", spying)
    wine = load_wine(as_frame=True).frame
    wine["target"] = wine["target"].map({0: "a", 1: "b", 2: "c"})
    data = make_dataset(pd.DataFrame(wine), label="target")
    label_errors(data, LabelErrorParams(), ToolContext(cache_dir=tmp_path, threads=budget))
    assert seen and max(seen) <= budget, seen


def test_the_embedder_gets_the_budget(tmp_path):
    from curation_tools.embed import make_embedder

    embedder = make_embedder("minilm", cache_dir=None, threads=1)
    assert embedder._session.get_session_options().intra_op_num_threads == 1


def test_a_rounds_parallel_steps_split_the_cores():
    from copilot.run.graph import dispatch

    sends = dispatch({"plan": [{"tool": "dedup"}, {"tool": "decontam"}], "round": 0})
    assert {s.arg["parallel"] for s in sends} == {2}


def test_a_collector_pause_is_shared_by_nested_and_concurrent_holders_and_ends_as_it_began():
    import gc

    from curation_tools.collector import many_objects

    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with many_objects():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert inside.wait(10)
    with many_objects(), many_objects():
        assert not gc.isenabled()
    assert not gc.isenabled(), "another thread still holds the pause"
    release.set()
    thread.join()
    assert gc.isenabled()
    gc.disable()  # a caller that had turned it off keeps it off
    try:
        with many_objects():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
