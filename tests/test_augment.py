"""The augment tool: a plan for thin classes, a scripted generator's bad outputs stopped by each filter, the
offline message, SMOTE for tabular data, provenance, the ledger adding rows, and the CLI's rows file."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from curation_tools.augment import AugmentParams, plan_counts, run
from curation_tools.io import load_dataset

from .conftest import EXAMPLE, make_dataset

GOOD = [
    "Which cash machines let me change my PIN number?",
    "Is it possible to reset my PIN at an ATM abroad?",
    "I want a new PIN, can I set it at any cash point?",
    "My PIN needs changing, where can I do that?",
]


class ScriptedGenerator:
    model = "scripted-model"
    prompt_version = 1

    def __init__(self, outputs: list[str]) -> None:
        self.outputs = outputs
        self.requests = []

    def generate(self, request):
        self.requests.append(request)
        return self.outputs[: request.n] if request.label == "change_pin" else []


def _thin_tickets(tmp_path):
    frame = pd.read_csv(EXAMPLE)
    pins = frame.index[frame["intent"] == "change_pin"][10:]
    thin = frame.drop(index=pins)
    path = tmp_path / "thin.csv"
    thin.to_csv(path, index=False)
    return load_dataset(path)[0], "Someone stole my phone yesterday and I need to block the app on it"


def test_plan_targets_thin_classes():
    labels = pd.Series(["a"] * 10 + ["b"] * 10 + ["c"] * 3)
    assert plan_counts(labels, AugmentParams()) == {"c": 7}
    assert plan_counts(labels, AugmentParams(target_count=12, max_per_class=4)) == {"a": 2, "b": 2, "c": 4}


def test_filters_stop_planted_bad_outputs_and_keep_good_ones(tmp_path, ctx):
    data, other_class_text = _thin_tickets(tmp_path)
    existing = data.texts()[data.labels() == "change_pin"].iloc[0]
    bench = tmp_path / "bench.jsonl"
    leak = "What is the fee for changing my PIN at a foreign cash machine today?"
    bench.write_text(json.dumps({"id": "b1", "text": leak}) + "\n")
    second = data.texts()[data.labels() == "change_pin"].iloc[1]
    stitched = f"{existing.rstrip('.?!')}? {second}"  # two real rows glued, as the local 0.5B wrote them
    bad = ["", existing, existing.upper(), other_class_text, "我想在自动取款机上更改我的密码", leak, stitched]
    ctx.generator = ScriptedGenerator(GOOD + bad)
    result = run(data, AugmentParams(max_per_class=50, benchmark=[f"{bench}:text"]), ctx)
    rejected = result.report["rejected"]
    assert rejected["empty_or_length"] == 1 and rejected["script"] == 1 and rejected["stitched"] == 1
    assert rejected["duplicate"] == 2 and rejected["contamination"] == 1 and rejected["label_inconsistent"] >= 1
    kept = [f.action.new_row["text"] for f in result.findings]
    assert set(kept) <= set(GOOD) and len(kept) >= 3  # good rows survive (>= 3 of 4)
    request = next(r for r in ctx.generator.requests if r.label == "change_pin")
    assert 1 <= len(request.exemplars) <= 8
    origin = result.findings[0].action.origin
    assert origin["origin"] == "synthetic" and origin["model"] == "scripted-model" and origin["exemplar_ids"]
    assert all(
        f.action.type.value == "add_rows" and f.action.new_row["intent"] == "change_pin" for f in result.findings
    )


def test_short_rewordings_of_benchmark_items_are_not_leaks(tmp_path, ctx):
    """Under SHORT_TEXT_WORDS a rewording of a benchmark query is just another query of the intent: kept.
    A verbatim copy of it is still a leak."""
    data, _ = _thin_tickets(tmp_path)
    bench = tmp_path / "bench.jsonl"
    item = "How do I change the PIN on my card at a cash machine?"
    bench.write_text(json.dumps({"id": "b1", "text": item}) + "\n")
    reworded = "How can I change my card's PIN at a cash machine?"  # the decontam tool alone flags it (0.99)
    params = AugmentParams(benchmark=[f"{bench}:text"])
    ctx.generator = ScriptedGenerator([reworded])
    assert [f.action.new_row["text"] for f in run(data, params, ctx).findings] == [reworded]
    ctx.generator = ScriptedGenerator([item])
    result = run(data, params, ctx)
    assert result.report["rejected"].get("contamination") == 1 and not result.findings


def test_offline_text_says_so_and_adds_nothing(tmp_path, ctx):
    data, _ = _thin_tickets(tmp_path)
    result = run(data, AugmentParams(), ctx)
    assert not result.findings and "no LLM generator is configured" in result.proposal.summary


def test_tabular_smote_rows_with_provenance_applied_through_the_ledger(tmp_path, ctx):
    from sklearn.datasets import load_wine

    from copilot.core.decisions import Decision
    from copilot.ledger import Ledger

    wine = load_wine(as_frame=True).frame
    wine["target"] = wine["target"].map({0: "a", 1: "b", 2: "c"})
    thin = pd.concat([wine[wine["target"] != "c"], wine[wine["target"] == "c"].head(12)], ignore_index=True)
    data = make_dataset(thin, label="target")
    result = run(data, AugmentParams(), ctx)
    assert result.findings and {f.action.origin["method"] for f in result.findings} == {"SMOTE"}
    assert {f.action.new_row["target"] for f in result.findings} == {"c"}
    ledger = Ledger.open_or_create(tmp_path / "ws", data)
    applied = ledger.apply(result.proposal, Decision.uniform(result.proposal, approve=True, decided_by="test"))
    assert len(ledger.dataset()) == len(thin) + len(applied.edits) and len(applied.edits) == len(result.findings)


def test_cli_writes_the_new_rows_with_provenance(cli, tmp_path):
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "malignant", 1: "benign"})
    thin = pd.concat([frame[frame["target"] == "benign"], frame[frame["target"] == "malignant"].head(40)])
    data = tmp_path / "bc.csv"
    thin.to_csv(data, index=False)
    out = tmp_path / "new.jsonl"
    assert cli("tools", "augment", data, "--label", "target", "--max-per-class", "20", "--out", out).code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 20 and all(r["origin"] == "synthetic" and r["target"] == "malignant" for r in rows)
    assert "mean radius" in rows[0] and rows[0]["method"] == "SMOTE"


@pytest.mark.parametrize("bad", [{"target_count": 1}, {"label_ratio": 0}])
def test_bad_parameters_are_rejected(bad):
    with pytest.raises(ValueError):
        AugmentParams(**bad)


def test_llm_generator_over_http(tmp_path, ctx):
    from copilot.core.config import Settings
    from copilot.llm.client import LLMClient
    from copilot.llm.fake_server import FakeOpenAIServer
    from copilot.llm.judge import LLMTextGenerator

    data, _ = _thin_tickets(tmp_path)
    calls = []

    def script(body):
        calls.append(body)
        wanted = "Class: change_pin" in body["messages"][1]["content"]
        return json.dumps({"examples": GOOD if wanted else []})

    with FakeOpenAIServer(chat=script) as server:
        generator = LLMTextGenerator(LLMClient(Settings(base_url=server.base_url, model="gen-model")))
        ctx.generator = generator
        result = run(data, AugmentParams(), ctx)
    assert calls and all("<data>" in c["messages"][1]["content"] for c in calls)
    kept = {f.action.new_row["text"] for f in result.findings}
    assert kept and kept <= set(GOOD)
    assert result.findings[0].action.origin["model"] == "gen-model"
