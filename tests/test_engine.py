"""The Dask engine on a real cluster the tests start on 127.0.0.1: the same findings as the local engine.

Each comparison embeds from an empty cache on both sides, so the cluster's workers really compute the vectors,
and cuts the work into several shards, so results must come back in order.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import EXAMPLE

pytest.importorskip("distributed", reason="the dask extra is not installed: pip install '.[dask]'")

BENCH = EXAMPLE.with_name("bank_eval.jsonl")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The process's Dask engine: a LocalCluster of two worker processes on 127.0.0.1, stopped after the module."""
    from curation_tools import engine

    started = engine.engine_for("dask", threads=2, cache_dir=tmp_path_factory.mktemp("engine"))
    yield started
    engine.close_engines()


@pytest.fixture
def small_shards(monkeypatch):
    from curation_tools import decontam, embed, near_dup

    monkeypatch.setattr(embed, "EMBED_SHARD", 128)
    monkeypatch.setattr(near_dup, "CHUNK", 100)
    monkeypatch.setattr(near_dup, "VERIFY_PAIRS", 3)
    monkeypatch.setattr(decontam, "NGRAM_SHARD", 100)


def test_every_connection_is_on_loopback(cluster):
    info = cluster.client.scheduler_info()
    addresses = [info["address"], *info["workers"]]
    assert len(info["workers"]) == 2
    assert {urlparse(address).hostname for address in addresses} == {"127.0.0.1"}
    assert cluster.task_threads == 1


def _findings(result) -> list[tuple]:
    return [(f.row_id, f.issue, f.action.model_dump_json(), f.message) for f in result.proposal.findings]


def _scores(result) -> list[float]:
    return [f.score for f in result.proposal.findings]


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
@pytest.mark.parametrize(
    ("tool", "params"),
    [
        ("label-errors", {}),
        ("dedup", {"method": ["exact", "near", "semantic"]}),
        ("decontam", {"benchmark": [f"{BENCH}:query"], "paraphrase": True, "embed_all": True}),
    ],
)
def test_a_tool_finds_the_same_on_the_cluster(tool, params, cluster, small_shards, tmp_path):
    from curation_tools.context import ToolContext
    from curation_tools.io import load_dataset
    from curation_tools.registry import get_tool, run_tool

    spec = get_tool(tool)
    data, _ = load_dataset(EXAMPLE)
    parsed = spec.params_model(**params)
    local = run_tool(spec, data, parsed, ToolContext(cache_dir=tmp_path / "local"))
    remote = run_tool(spec, data, parsed, ToolContext(cache_dir=tmp_path / "dask", engine_spec="dask"))
    assert local.proposal.findings, "the example has planted issues of every kind"
    assert _findings(remote) == _findings(local)
    assert _scores(remote) == pytest.approx(_scores(local), abs=1e-6)


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_label_folds_on_large_data_fit_a_sample_the_same_way(cluster, monkeypatch, tmp_path):
    """Above FIT_ROWS each fold fits on a seeded sample of its training rows, on either engine."""
    from curation_tools import label_views
    from curation_tools.context import ToolContext
    from curation_tools.io import load_dataset
    from curation_tools.label_errors import LabelErrorParams, ensemble_probabilities

    monkeypatch.setattr(label_views, "FIT_ROWS", 150)
    data, _ = load_dataset(EXAMPLE)
    local = ensemble_probabilities(data, LabelErrorParams(), ToolContext(cache_dir=tmp_path / "a"))
    remote = ensemble_probabilities(data, LabelErrorParams(), ToolContext(cache_dir=tmp_path / "b", engine_spec="dask"))
    for name, view in local.views.items():
        assert (view.probs.sum(axis=1) > 0.99).all(), f"{name}: a row without out-of-fold probabilities"
        assert remote.views[name].probs == pytest.approx(view.probs, abs=1e-6)


@pytest.mark.slow
def test_a_run_curates_the_same_on_the_cluster(cli, cluster, small_shards, tmp_path, monkeypatch):
    """`curate run --engine dask` end to end: the same decisions, edits and curated file as the local engine."""
    from copilot.ledger import Ledger

    def run(engine: str) -> Path:
        monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / f"cache-{engine}"))
        folder = tmp_path / engine
        args = ("run", EXAMPLE, "--benchmark", f"{BENCH}:query", "--policy", "approve-all", "--out", folder)
        assert cli(*args, "--engine", engine).code == 0
        return folder

    local, remote = run("local"), run("dask")
    assert (remote / "curated.csv").read_bytes() == (local / "curated.csv").read_bytes()
    ledgers = [Ledger(folder / "workspace" / "ledger") for folder in (local, remote)]
    made = [[(d.tool, d.approved, d.n_edits) for d in ledger.decisions()] for ledger in ledgers]
    assert made[0] == made[1] and made[0]


def test_an_unknown_engine_is_a_user_error(cli):
    result = cli("tools", "dedup", EXAMPLE, "--engine", "spark")
    assert result.code == 2 and "Unknown engine 'spark'" in result.stderr


@pytest.mark.slow  # over 2 s: CI's whole suite runs it, the fast tier does not
def test_a_dask_address_that_answers_nothing_is_a_user_error(tmp_path):
    from curation_tools.engine import DaskEngine
    from curation_tools.errors import UserInputError

    with pytest.raises(UserInputError, match="Could not reach the Dask scheduler"):
        DaskEngine("tcp://127.0.0.1:9", tmp_path, workers=1, timeout_s=2)
