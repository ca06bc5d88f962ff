"""The decontam tool: benchmark files and presets, verbatim/short/buried/reworded items, boilerplate, judge, CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from curation_tools.benchmark_files import load_benchmark
from curation_tools.context import ContaminationVerdict
from curation_tools.decontam import DecontamParams, run
from curation_tools.errors import UserInputError

from .conftest import make_dataset, shared_file

ITEMS = [
    {
        "id": "q1",
        "question": "A farmer has 17 sheep and buys 24 more each spring for 3 years. How many sheep now?",
        "answer": "17 + 24 * 3 = 89\n#### 89",
    },
    {"id": "q2", "question": "What is the boiling point of water at sea level in Kelvin?", "answer": "373.15"},
    {"id": "q3", "question": "Name the largest moon of Saturn.", "answer": "Titan"},
    {
        "id": "q4",
        "question": "Lena reads 12 pages on Monday and twice as many pages on Tuesday. She has 80 pages "
        "left of her 150-page novel. How many pages did she read on Wednesday?",
        "answer": "#### 34",
    },
]
BOILERPLATE = "Below is an instruction that describes a task. Write a response that appropriately completes it."
FILLER = (
    "The weather report said light rain would continue through the weekend across the northern valleys, "
    "and the road crews were told to expect slow traffic near the bridges. "
) * 6


@pytest.fixture
def bench(tmp_path):
    path = tmp_path / "bench.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n")
    return path


def _train():
    clean = [f"{BOILERPLATE} Item {i}: summarise the memo about office plants number {i}." for i in range(40)]
    rows = [
        *clean,
        ITEMS[0]["question"] + "\n" + ITEMS[0]["answer"],  # verbatim with its answer
        "Name the largest moon of Saturn, please.",  # short item, a near copy (6 of 7 tokens)
        FILLER + " " + ITEMS[3]["question"] + " " + FILLER,  # buried inside a long document
        "How many pages did Lena read on Wednesday if she read 12 pages Monday, twice that Tuesday, "
        "and still has 80 pages of her 150-page novel left?",  # reworded
    ]
    return make_dataset(pd.DataFrame({"text": rows}), label="none")


def test_presets_fields_and_errors(tmp_path, bench):
    items = load_benchmark(str(bench))
    assert items.name == "gsm8k" and items.fields == ["question", "answer"] and items.ids[0] == "q1"
    assert items.texts[0].endswith("#### 89") and items.keys[0] == ITEMS[0]["question"]
    only = load_benchmark(f"{bench}:question")
    assert only.texts == only.keys and only.content_hash != items.content_hash
    listy = tmp_path / "choices.jsonl"
    listy.write_text(json.dumps({"question": "Pick one", "choices": ["red", "blue"]}) + "\n")
    assert load_benchmark(str(listy)).texts == ["Pick one\nred\nblue"]  # mmlu preset, list field joined
    with pytest.raises(UserInputError, match="no column"):
        load_benchmark(f"{bench}:prompt")
    with pytest.raises(UserInputError, match="humaneval preset needs"):
        load_benchmark(f"{bench}:humaneval")


def test_shared_benchmarks_resolve_their_presets():
    assert load_benchmark(str(shared_file("mmlu/mmlu_test.jsonl.gz"))).name == "mmlu"
    human = load_benchmark(str(shared_file("humaneval/HumanEval.jsonl")))
    assert human.name == "humaneval" and human.ids[0] == "HumanEval/0"


def test_finds_verbatim_short_buried_and_reworded_items_not_boilerplate(bench, ctx):
    data = _train()
    result = run(data, DecontamParams(benchmark=[str(bench)]), ctx)
    found = {f.row_id: f for f in result.findings}
    assert set(found) == {"40", "41", "42", "43"}, {k: f.message for k, f in found.items()}
    assert found["40"].evidence.benchmark_item == "q1" and found["40"].evidence.method == "ngram"
    assert found["41"].evidence.benchmark_item == "q3"
    assert found["42"].evidence.benchmark_item == "q4" and found["42"].evidence.overlapping_spans
    assert found["43"].evidence.benchmark_item == "q4" and found["43"].evidence.method == "embedding+overlap"
    assert all(f.issue == "contamination" and f.action.type == "drop" for f in result.findings)
    assert found["40"].evidence.benchmark_text.startswith("A farmer has 17 sheep")


def test_a_verbatim_copy_does_not_hide_a_reworded_copy_of_the_same_item(bench, ctx):
    """The row-margin rule compares a reworded row with the other rows near the item; a verbatim copy of the
    item is not "another row on the same topic", so both copies are found."""
    clean = [f"{BOILERPLATE} Item {i}: summarise the memo about office plants number {i}." for i in range(40)]
    verbatim = ITEMS[3]["question"] + "\n" + ITEMS[3]["answer"]
    reworded = (
        "How many pages did Lena read on Wednesday if she read 12 pages Monday, twice that Tuesday, "
        "and still has 80 pages of her 150-page novel left?"
    )
    data = make_dataset(pd.DataFrame({"text": [*clean, verbatim, reworded]}), label="none")
    found = {f.row_id: f for f in run(data, DecontamParams(benchmark=[str(bench)]), ctx).findings}
    assert set(found) == {"40", "41"}
    assert found["40"].evidence.method == "ngram" and found["41"].evidence.method == "embedding+overlap"
    assert found["41"].evidence.benchmark_item == "q4"


def test_short_question_copied_with_lettered_choices_is_a_copy_but_not_inside_another_question(tmp_path, ctx):
    """A question under 8 words copied with its choices behind letters (which break the choices' n-grams) is
    matched by the whole question; the same short question as a phrase of another question is not."""
    items = [
        {
            "question": "Secularization involves the two related ideas of:",
            "choices": [
                "disappointment and disproportion",
                "disbelief and disintegration",
                "disengagement and disenchantment",
                "distribution and distillation",
            ],
        },
        {
            "question": "Which of the following statements is true?",
            "choices": [
                "Every equivalence relation is a partial order.",
                "The empty relation is reflexive.",
                "Every function is injective.",
                "Every group is cyclic.",
            ],
        },
    ]
    bench = tmp_path / "mmlu.jsonl"
    bench.write_text("\n".join(json.dumps(i) for i in items) + "\n")
    rows = [
        *[f"{BOILERPLATE} Item {i}: summarise the memo about office plants number {i}." for i in range(20)],
        "Question: Secularization involves the two related ideas of:\nA. disappointment and disproportion\n"
        "B. disbelief and disintegration\nC. disengagement and disenchantment\nD. distribution and distillation\n"
        "Answer: C",
        "Question: In a private closed economy which of the following statements is true?\nA. Household saving "
        "can never be negative.\nB. Investment is always greater than savings.\nAnswer: A",
    ]
    data = make_dataset(pd.DataFrame({"text": rows}), label="none")
    found = run(data, DecontamParams(benchmark=[f"{bench}:mmlu"], paraphrase=False), ctx).findings
    assert [(f.row_id, f.evidence.benchmark_item, f.evidence.method) for f in found] == [("20", "0", "ngram")]


def test_index_keeps_what_a_scan_embedded_and_reuses_it(bench, ctx):
    """Items are embedded once per benchmark content (in the chromadb collection) and read back by later scans."""
    from dataclasses import replace

    from curation_tools.decontam import _corpus, _store

    stages: dict[str, list[str]] = {"first": [], "again": []}
    params = DecontamParams(benchmark=[str(bench)])
    first = run(_train(), params, replace(ctx, progress=lambda s, d, t: stages["first"].append(s)))
    again = run(_train(), params, replace(ctx, progress=lambda s, d, t: stages["again"].append(s)))
    assert "embedding benchmark" in stages["first"] and "embedding benchmark" not in stages["again"]
    assert (ctx.index_dir / "chroma.sqlite3").exists()
    assert [f.row_id for f in again.findings] == [f.row_id for f in first.findings]
    keys = _corpus([load_benchmark(str(bench))]).keys
    store = _store(_corpus([load_benchmark(str(bench))]), ctx)
    store.build(keys)  # --full-index: embeds the items no scan needed yet
    assert store.build(keys)[1]


def test_full_index_finds_the_same_rows_here(bench, ctx):
    """--full-index embeds every item and also retrieves by embedding; on this benchmark nothing differs."""
    lazy = run(_train(), DecontamParams(benchmark=[str(bench)]), ctx)
    full = run(_train(), DecontamParams(benchmark=[str(bench)], full_index=True), ctx)
    assert [(f.row_id, f.evidence.benchmark_item) for f in full.findings] == [
        (f.row_id, f.evidence.benchmark_item) for f in lazy.findings
    ]
    assert len(lazy.findings) == 4


class ScriptedContaminationJudge:
    def __init__(self, verdict: bool, confidence: float = 1.0) -> None:
        self.verdict = verdict
        self.confidence = confidence
        self.seen = []

    def judge_contamination(self, questions):
        self.seen += questions
        return [
            ContaminationVerdict(pair_id=q.pair_id, contaminated=self.verdict, confidence=self.confidence)
            for q in questions
        ]


def test_judge_sees_only_the_borderline_band(bench, ctx):
    data = _train()
    params = DecontamParams(benchmark=[str(bench)], threshold=1e-9, judge_band=[0.5, 0.999999])
    plain = {f.row_id: f.score for f in run(data, params, ctx).findings}
    in_band = {r for r, s in plain.items() if 0.5 <= s < 1.0}
    assert in_band == {"43"}  # the reworded row; verbatim rows score 1.0 and skip the judge
    ctx.contamination_judge = ScriptedContaminationJudge(verdict=False)
    judged = {f.row_id: f for f in run(data, params, ctx).findings}
    assert [q.train_text for q in ctx.contamination_judge.seen] == [data.texts()["43"]]
    assert judged["43"].score == pytest.approx(0.5 * plain["43"], abs=1e-3)
    assert judged["43"].evidence.judge["contaminated"] is False and "llm_judge" in judged["43"].evidence.method
    assert judged["40"].score == plain["40"]
    ctx.contamination_judge = ScriptedContaminationJudge(verdict=False, confidence=0.6)  # not sure: evidence only
    unsure = {f.row_id: f for f in run(data, params, ctx).findings}
    assert unsure["43"].score == plain["43"] and unsure["43"].evidence.judge["acted"] is False


def test_the_llm_judge_asks_both_ways_after_its_probes_and_a_model_that_does_not_read_never_acts(bench, ctx):
    """Each pair is asked "contaminated?" and "independent?", after the probe questions with known answers. A model
    that reads agrees with itself and acts. One that answers the same word whatever it reads contradicts itself;
    one that always says "clean" (as the local 0.5B did) agrees with itself but fails the probes and is not asked
    about rows. Either way the pair keeps its offline score."""
    from copilot.core.config import Settings
    from copilot.llm.client import LLMClient
    from copilot.llm.fake_server import FakeOpenAIServer
    from copilot.llm.judge import LLMContaminationJudge

    from .reading_models import asks_independent, contamination_reader

    data = _train()
    params = DecontamParams(benchmark=[str(bench)], threshold=1e-9, judge_band=[0.5, 0.999999])
    plain = {f.row_id: f.score for f in run(data, params, ctx).findings}

    def one_word(body):
        return json.dumps({"independent" if asks_independent(body) else "contaminated": False, "confidence": 0.9})

    def always_clean(body):
        answer = {"independent": True} if asks_independent(body) else {"contaminated": False}
        return json.dumps({**answer, "confidence": 0.9})

    outcomes = {}
    for name, script in (("reader", contamination_reader), ("one word", one_word), ("always clean", always_clean)):
        with FakeOpenAIServer(chat=script) as server:
            ctx.contamination_judge = LLMContaminationJudge(
                LLMClient(Settings(api_key="sk-test", base_url=server.base_url))
            )
            judged = {f.row_id: f for f in run(data, params, ctx).findings}
        outcomes[name] = (judged["43"], ctx.contamination_judge.client.usage.judge_probes["decontam_judge"])
    reader, probes = outcomes["reader"]
    assert probes == "passed 4 of 4" and reader.evidence.judge["acted"] is True
    assert reader.evidence.judge["votes"] == [True, True]
    assert reader.score == pytest.approx(0.5 * plain["43"] + 0.45, abs=1e-3)
    for name, wrong in (("one word", 4), ("always clean", 2)):  # one word contradicts itself on every probe
        finding, probes = outcomes[name]
        assert probes == f"failed {wrong} of 4: not used", name
        assert finding.evidence.judge["acted"] is False and "probe questions" in finding.evidence.judge["note"]
        assert finding.score == plain["43"]
    assert ctx.contamination_judge.prompt_versions == {"contamination_judge": 1, "contamination_judge_inverse": 1}


def test_cli_repeatable_benchmark_and_no_benchmark_error(cli, tmp_path, bench):
    data = tmp_path / "train.csv"
    _train().frame.to_csv(data, index=False)
    out = tmp_path / "found.jsonl"
    second = tmp_path / "other.csv"
    pd.DataFrame({"prompt": ["Completely unrelated prompt about gardening tools and soil"]}).to_csv(second, index=False)
    result = cli(
        "tools",
        "decontam",
        data,
        "--benchmark",
        f"{bench}:question,answer",
        "--benchmark",
        f"{second}:prompt",
        "--out",
        out,
    )
    assert result.code == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["row_id"] for r in rows} >= {"40", "41", "42"}
    assert cli("tools", "decontam", data).code == 2


def test_a_short_query_is_copied_by_its_surface_variants_not_by_a_slot_swap_or_a_longer_query(tmp_path, ctx):
    """banking77 / CLINC150 train vs test: a copy of a short query differs only in case, punctuation, filler,
    contractions and function words; another city, number or day is a new query however many words match, and
    so is a longer query that starts with the item. The item as a sentence of its own inside a row is a copy."""
    bench = tmp_path / "test_queries.jsonl"
    queries = [
        "What is the exchange rate?",
        "How do I link a new card?",
        "Please delete my account.",
        "is there a charge to use my card in japan",
        "what will the date be in 5 days",
        "I don't want my card anymore",
    ]
    bench.write_text("".join(json.dumps({"text": q}) + "\n" for q in queries))
    rows = [
        "what is the exchange rate for foreign ATMs",  # starts with a test query: a new query
        "How do I link a new card in the app?",  # ditto
        "Hi, what's the exchange rate?",  # filler and a contraction: a copy
        "Please delete my account now.",  # a filler word: a copy
        "How can I link a new card to my account quickly please?",  # a longer query on the same intent
        "Is there a charge to use my card in France?",  # a place swapped: a new query
        "what will the date be in 15 days",  # a number swapped
        "I do want my card anymore",  # the negation dropped
        "IS THERE A CHARGE TO USE MY CARD IN JAPAN!!",  # case and punctuation: a copy
        "I'm moving abroad next month. What is the exchange rate? Thanks",  # the item as its own sentence
    ]
    data = make_dataset(pd.DataFrame({"text": rows}), label="none")
    result = run(data, DecontamParams(benchmark=[f"{bench}:text"]), ctx)
    found = {f.row_id: f for f in result.findings}
    assert set(found) == {"2", "3", "8", "9"}, {k: f.message for k, f in found.items()}
    assert {found[k].evidence.method for k in ("2", "3", "8")} == {"surface variant"}
    assert found["9"].evidence.method == "whole item in row"
    near = {m["row_id"]: m for m in result.report["near_matches_not_flagged"]["closest"]}
    assert near["5"]["slot"] == "name" and "france" in near["5"]["differs"]
    assert near["6"]["slot"] == "number" and near["7"]["slot"] == "negation"


def test_a_math_item_with_other_numbers_is_its_template_not_a_copy(tmp_path, ctx):
    """GSM8K train holds problems that share a test item's wording with other numbers: another problem."""
    item = "A plane travels 1200 miles in 3 hours. At the same rate, how many miles will it travel in 5 hours?"
    bench = tmp_path / "math.jsonl"
    bench.write_text(json.dumps({"question": item, "answer": "#### 2000"}) + "\n")
    rows = [
        "A train travels 270 miles in 4 hours. At the same rate, how many miles will it travel in 6 hours?\n#### 405",
        item + "\n1200 / 3 = 400 miles per hour; 400 * 5 = 2000\n#### 2000",
    ]
    data = make_dataset(pd.DataFrame({"text": rows}), label="none")
    found = run(data, DecontamParams(benchmark=[f"{bench}:question"]), ctx).findings
    assert [(f.row_id, f.evidence.method) for f in found] == [("1", "ngram")]
    assert found[0].evidence.number_share == 1.0


def test_paraphrase_weights_are_positive_so_the_lazy_index_bound_holds():
    """The lazy item index embeds margin neighbours only for pairs whose probability, computed with every number
    found and margins that can only fall, reaches MARGIN_FLOOR: an upper bound only while these weights are > 0."""
    from curation_tools.decontam import PARAPHRASE_WEIGHTS

    assert all(weight > 0 for name, weight in PARAPHRASE_WEIGHTS.items() if name != "bias")
